extension RegistryConfiguration {
    /// `berth.retention`: which tags to keep, per repository glob; the rest are deleted (and
    /// their manifests, untagged, go at garbage collection after `untaggedgrace`).
    ///
    /// A dry run until `enabled` is set: `registryctl gc --retention --dry-run` shows what the
    /// policies would delete, and only an enabled configuration deletes anything.
    public struct Retention: Sendable, Equatable {
        /// Off (the default): policies are evaluated for dry runs only.
        public var enabled = false
        /// When set (and enabled), registryd applies the policies itself this often.
        public var schedule: Duration?
        /// Untagged manifests older than this are removed by the collection that follows.
        public var untaggedGrace: Duration = .seconds(24 * 3600)
        /// The first policy whose `repositories` match a repository decides for it; a
        /// repository no policy matches keeps every tag.
        public var policies: [RetentionPolicy] = []

        public init() {}
    }
}

/// What one policy keeps. A tag is kept when any rule keeps it; a policy with no rule at all
/// keeps everything (an empty policy is a mistake, not an order to delete).
public struct RetentionPolicy: Sendable, Equatable {
    /// Globs (`*` is any run of characters) of the repositories the policy covers.
    public var repositories: [String]
    /// The N most recently pushed tags.
    public var keepLast: Int?
    /// Tags whose name matches one of these regular expressions (whole-name matches).
    public var keepPatterns: [String] = []
    /// Tags pushed (moved) within this window.
    public var keepPushedWithin: Duration?
    /// Tags pulled within this window.
    public var keepPulledWithin: Duration?

    public init(repositories: [String]) {
        self.repositories = repositories
    }

    public var hasRules: Bool {
        keepLast != nil || !keepPatterns.isEmpty || keepPushedWithin != nil || keepPulledWithin != nil
    }

    public func covers(_ repository: String) -> Bool {
        repositories.contains { AccessPolicy.matches($0, repository) }
    }
}
