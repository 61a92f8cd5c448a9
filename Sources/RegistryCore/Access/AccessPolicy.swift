import Foundation

/// Berth's own authorization rules, from `berth.access` in `config.yml`: which signed-in users
/// and groups may pull, push or delete in which repositories, and whether anyone may pull
/// without signing in.
///
/// Without rules every signed-in user may do everything, as in the reference registry.
public struct AccessPolicy: Sendable, Equatable {
    /// One grant: these users and groups may do these actions in repositories matching the pattern.
    public struct Rule: Sendable, Equatable {
        /// A repository name in which `*` matches any run of characters, slashes included.
        public var repository: String
        /// User names; `*` means every signed-in user.
        public var users: [String]
        public var groups: [String]
        public var actions: Set<RegistryAction>

        public init(repository: String, users: [String] = [], groups: [String] = [], actions: Set<RegistryAction>) {
            self.repository = repository
            self.users = users
            self.groups = groups
            self.actions = actions
        }
    }

    /// `berth.access.anonymous: pull`: clients without credentials may pull from every repository.
    public var anonymousPull = false
    /// Group name to user names.
    public var groups: [String: [String]] = [:]
    /// Nil when the list is absent: then every signed-in user may do everything.
    public var rules: [Rule]?

    public init(anonymousPull: Bool = false, groups: [String: [String]] = [:], rules: [Rule]? = nil) {
        self.anonymousPull = anonymousPull
        self.groups = groups
        self.rules = rules
    }

    /// True when the settings restrict anything at all.
    public var isConfigured: Bool { anonymousPull || rules != nil }

    /// Whether `user` (nil: anonymous) may have every action of `scope`.
    public func allows(_ user: String?, _ scope: AccessScope) -> Bool {
        guard let user else {
            guard anonymousPull, case .repository = scope.resource else { return false }
            return scope.actions.allSatisfy { $0 == .pull }
        }
        guard let rules else { return true }
        switch scope.resource {
        case .catalog:
            // Listing names needs no more than being signed in.
            return true
        case .repository(let name):
            let memberOf = Set(groups.filter { $0.value.contains(user) }.map(\.key))
            let granted = rules.reduce(into: Set<RegistryAction>()) { granted, rule in
                guard rule.users.contains(user) || rule.users.contains("*") || !memberOf.isDisjoint(with: rule.groups),
                    Self.matches(rule.repository, name)
                else { return }
                granted.formUnion(rule.actions)
            }
            return scope.actions.allSatisfy(granted.contains)
        }
    }

    /// Glob matching where `*` is any run of characters (slashes included) and everything else is literal.
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return pattern == name }
        var rest = Substring(name)
        guard let first = parts.first, rest.hasPrefix(first) else { return false }
        rest = rest.dropFirst(first.count)
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        guard let last = parts.last else { return true }
        return rest.hasSuffix(last)
    }
}
