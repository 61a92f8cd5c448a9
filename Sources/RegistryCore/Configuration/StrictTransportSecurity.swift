extension RegistryConfiguration {
    /// `berth.tls.hsts` and `berth.tls.hstsmaxage`: the `Strict-Transport-Security` header
    /// registryd sends on every response when it serves HTTPS.
    ///
    /// On by default with two years (63072000 s), the value Mozilla's configuration generator
    /// and the HSTS preload list ask for: a registry behind TLS is meant to stay there, and
    /// browsers (the web UI) then never try plain HTTP on that host. Without `includeSubDomains`,
    /// so that other services on subdomains of the registry's name are not forced to HTTPS.
    public struct StrictTransportSecurity: Sendable, Equatable {
        public var enabled: Bool = true
        public var maxAge: Int = 63_072_000

        public init() {}

        /// The header's value, e.g. `max-age=63072000`.
        public var headerValue: String { "max-age=\(maxAge)" }
    }
}
