extension RegistryConfiguration {
    /// `database`: the metadata index in PostgreSQL instead of SQLite, so that several registryd
    /// processes share it. The keys are those of GitLab's container registry.
    ///
    /// ``description`` never shows the password, so a logged configuration cannot leak it.
    public struct Database: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
        public var enabled: Bool = false
        public var host: String = "localhost"
        public var port: Int = 5432
        public var user: String = ""
        public var password: String = ""
        public var dbname: String = ""
        /// libpq's modes: `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`.
        public var sslMode: SSLMode = .prefer
        public var sslCert: String?
        public var sslKey: String?
        public var sslRootCert: String?
        /// `connecttimeout`: how long opening one connection may take (0 or absent: 10 s).
        public var connectTimeout: Duration = .seconds(10)
        public var pool = Pool()

        public init() {}

        /// `database.pool`.
        public struct Pool: Sendable, Equatable {
            /// `maxopen`: connections at most (0 or absent: 25).
            public var maxOpen: Int = 25
            /// `maxidle`: connections kept open while idle (at most `maxopen`).
            public var maxIdle: Int = 5
            /// `maxlifetime`: a connection is closed after this long (nil: never).
            public var maxLifetime: Duration?

            public init() {}
        }

        /// libpq's `sslmode` values.
        public enum SSLMode: String, Sendable, Equatable, CaseIterable {
            case disable, allow, prefer, require
            case verifyCA = "verify-ca"
            case verifyFull = "verify-full"
        }

        public var description: String {
            "postgres://\(user)@\(host):\(port)/\(dbname)?sslmode=\(sslMode.rawValue)"
                + (password.isEmpty ? "" : " (password set)")
        }

        public var debugDescription: String { description }
    }
}
