/// The registry's settings, in the reference registry's `config.yml` layout.
///
/// Keys of our own live under their own names; a file written for the reference registry
/// reads unchanged.
public struct RegistryConfiguration: Sendable, Equatable {
    public struct Log: Sendable, Equatable {
        public var level: LogLevel = .info
        public var formatter: LogFormat = .text
        public var fields: [String: String] = [:]
        public var accessLogDisabled: Bool = false
    }

    /// `log.level`, with the reference registry's names.
    public enum LogLevel: String, Sendable, Equatable, CaseIterable {
        case error, warning, info, debug, trace
    }

    /// `log.formatter`: `text`, or `json` (also read from the reference's `logstash`).
    public enum LogFormat: String, Sendable, Equatable {
        case text, json
    }

    /// `http.tls.minimumtls`.
    public enum TLSVersion: String, Sendable, Equatable, CaseIterable {
        case tls12 = "tls1.2"
        case tls13 = "tls1.3"
    }

    public struct UploadPurging: Sendable, Equatable {
        public var enabled: Bool = true
        public var age: Duration = .seconds(168 * 3600)
        public var interval: Duration = .seconds(24 * 3600)
        public var dryRun: Bool = false
    }

    public struct Storage: Sendable, Equatable {
        /// Absolute path of the storage root.
        public var rootDirectory: String = "/var/lib/registry"
        public var deleteEnabled: Bool = false
        public var readOnly: Bool = false
        public var uploadPurging = UploadPurging()
        /// `storage.s3`: blobs in an object store instead of under ``rootDirectory`` (which
        /// then holds only the SQLite database).
        public var s3: S3?
        /// `storage.redirect.disable`: with an object store, blob GETs are answered with a 307
        /// to a presigned URL unless this is true.
        public var redirectDisabled: Bool = false
    }

    public struct TLS: Sendable, Equatable {
        public var certificate: String
        public var key: String
        public var clientCAs: [String] = []
        public var minimumTLS: TLSVersion = .tls12
        /// `http.tls.ciphersuites`: the TLS 1.2 suites offered, by IANA name. See ``TLSCipherSuites``.
        public var cipherSuites: [String] = TLSCipherSuites.intermediate
    }

    public struct HTTP: Sendable, Equatable {
        public var host: String = "0.0.0.0"
        public var port: Int = 5000
        /// `http.prefix`: the path the API is served under, with leading and trailing slash
        /// (`/` by default; `/registry/` serves `/registry/v2/`).
        public var prefix: String = "/"
        /// `http.host`: the externally visible URL (scheme and authority). When set, `Location`
        /// headers are absolute URLs under it; otherwise they are relative paths.
        public var externalURL: String?
        /// `http.relativeurls`: read for compatibility; Locations are relative unless `http.host` is set.
        public var relativeURLs: Bool?
        public var headers: [Header] = []
        public var tls: TLS?
        public var secret: String?
        public var drainTimeout: Duration = .seconds(30)
        /// The debug listener (`http.debug`), off unless `http.debug.addr` is set.
        public var debug: Debug?
    }

    /// `http.debug`: a second listener for `/debug/health` and, when enabled, Prometheus metrics.
    public struct Debug: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var prometheusEnabled: Bool = false
        public var prometheusPath: String = "/metrics"
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var values: [String]
    }

    public struct StorageHealth: Sendable, Equatable {
        public var enabled: Bool = false
        public var interval: Duration = .seconds(10)
        public var threshold: Int = 1
    }

    public struct Health: Sendable, Equatable {
        public var storageDriver = StorageHealth()
    }

    public struct HTPasswd: Sendable, Equatable {
        public var realm: String
        public var path: String
    }

    /// `auth.token`: the Docker token authentication protocol.
    public struct Token: Sendable, Equatable {
        public var realm: String
        public var service: String
        public var issuer: String
        /// PEM certificates whose keys may sign tokens.
        public var rootCertBundle: String
    }

    public struct Auth: Sendable, Equatable {
        public var htpasswd: HTPasswd?
        public var token: Token?
    }

    public var version: String = "0.1"
    public var log = Log()
    public var storage = Storage()
    public var http = HTTP()
    public var health = Health()
    public var auth = Auth()
    /// Berth's own switches, under a top-level key the reference registry does not use.
    public var berth = Berth()
    /// Upstreams mirrored as pull-through caches: `proxy:` and `berth.mirrors`.
    public var mirrors: [Mirror] = []
    /// `database`: the metadata index in PostgreSQL (see ``Database``); SQLite when not enabled.
    public var database = Database()
    /// `notifications`: webhook endpoints that are sent registry events.
    public var notifications = Notifications()

    public init() {}

    /// Where the SQLite metadata database lives: `registry.db` in the storage root.
    public var databasePath: String { storage.rootDirectory + "/registry.db" }

    /// The path prefix of every API route: `http.prefix` without its trailing slash
    /// (empty for the default `/`).
    public var routePrefix: String { String(http.prefix.dropLast()) }

    /// True when the listener binds only to a loopback address.
    public var listensOnLoopbackOnly: Bool { Self.isLoopback(http.host) }

    /// True for a loopback host name or address.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
