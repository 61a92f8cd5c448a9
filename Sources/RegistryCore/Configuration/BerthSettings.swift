extension RegistryConfiguration {
    /// Switches of Berth's own, read from the top-level `berth:` section.
    public struct Berth: Sendable, Equatable {
        /// `berth.mount.anywhere`: a mount without `from` links any blob some repository
        /// already has. Off by default, as in the reference registry.
        public var mountAnywhere: Bool = false
        /// `berth.manifests.allownondistributable`: layers with `urls` need not be in the
        /// registry. Off by default: such layers are refused.
        public var allowNonDistributable: Bool = false
        /// `berth.access`: who may pull, push and delete where. See ``AccessPolicy``.
        public var access = AccessPolicy()
        /// `berth.limits`: request sizes, rates and timeouts.
        public var limits = Limits()
        /// `berth.tls`: `Strict-Transport-Security` when serving HTTPS.
        public var hsts = StrictTransportSecurity()
        /// `berth.audit`: the audit trail; nil (off) unless `berth.audit.path` is set.
        public var audit: Audit?
        /// `berth.ui`: the web UI.
        public var ui = UI()
        /// `berth.retention`: tag retention policies.
        public var retention = Retention()

        public init() {}
    }
}
