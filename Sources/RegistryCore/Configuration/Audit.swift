extension RegistryConfiguration {
    /// `berth.audit`: the audit trail, a JSON-lines file of every state change and failed login.
    /// Off unless `path` is set.
    public struct Audit: Sendable, Equatable {
        /// Absolute path of the current file; rotated files are `<path>.1` (newest) to `<path>.<maxBackups>`.
        public var path: String
        /// `berth.audit.maxsize`: the current file is rotated before a write would take it past this.
        public var maxSize: Int64 = 100 * 1024 * 1024
        /// `berth.audit.maxbackups`: how many rotated files are kept.
        public var maxBackups: Int = 5

        public init(path: String) {
            self.path = path
        }
    }
}
