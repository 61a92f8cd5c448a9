extension RegistryConfiguration {
    /// One upstream registry that Berth mirrors as a pull-through cache: Distribution's
    /// `proxy:` section (one upstream for the whole registry), or one entry of Berth's own
    /// `berth.mirrors` list (an upstream under a repository prefix, beside private repositories).
    public struct Mirror: Sendable, Equatable {
        /// Local repositories under this prefix (`docker.io` holds `docker.io/library/alpine`)
        /// are this upstream's. Empty for `proxy.remoteurl`: every repository is.
        public var prefix: String = ""
        /// The upstream's base URL, `https://registry-1.docker.io`.
        public var remoteURL: String
        public var username: String?
        public var password: String?
        /// PEM certificates that sign the upstream's certificate, in addition to the system's.
        public var caBundle: String?
        /// Skips verification of the upstream's certificate (a test upstream; never Docker Hub).
        public var insecure: Bool = false
        /// How long a tag's cached manifest is served without asking the upstream whether it
        /// moved. Zero (the default, as Distribution's proxy behaves) asks on every pull by tag,
        /// with a HEAD request that costs no download when the tag stayed put.
        public var tagTTL: Duration = .zero
        /// Cached content that has not been pulled for this long is dropped by
        /// `registryctl gc` (Distribution's `proxy.ttl`, 168h by default; zero keeps it forever).
        public var expiry: Duration = .seconds(168 * 3600)
        /// Names outside every prefix (`library/alpine`, as docker's `registry-mirrors` asks)
        /// come from this upstream unless a private repository of that name exists.
        public var isDefault: Bool = false

        public init(prefix: String = "", remoteURL: String) {
            self.prefix = prefix
            self.remoteURL = remoteURL
        }

        /// A name for logs and metrics: the prefix, or the upstream's host for `proxy:`.
        public var label: String {
            if !prefix.isEmpty { return prefix }
            let withoutScheme = remoteURL.split(separator: "://", maxSplits: 1).last.map(String.init) ?? remoteURL
            return String(withoutScheme.split(separator: "/", maxSplits: 1).first ?? "upstream")
        }
    }
}
