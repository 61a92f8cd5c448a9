import Foundation

/// A tag as retention sees it.
public struct RetainedTag: Sendable, Equatable {
    public var name: String
    public var digest: Digest
    /// When the tag last moved (its push).
    public var pushedAt: Date
    /// When it was last pulled, if ever (recorded off the request path, so it may lag by a
    /// few seconds).
    public var pulledAt: Date?

    public init(name: String, digest: Digest, pushedAt: Date, pulledAt: Date?) {
        self.name = name
        self.digest = digest
        self.pushedAt = pushedAt
        self.pulledAt = pulledAt
    }
}

/// What retention decided for one tag, and which rule decided it.
public struct RetentionDecision: Sendable, Equatable, Codable {
    public var repository: String
    public var tag: String
    public var digest: String
    public var keep: Bool
    /// The rule that keeps it, or why nothing did.
    public var reason: String

    public init(repository: String, tag: String, digest: String, keep: Bool, reason: String) {
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.keep = keep
        self.reason = reason
    }
}

/// Applies a policy to one repository's tags. No I/O: the caller reads the tags and the
/// manifests other content needs, and deletes what the plan says.
/// Not `Sendable`: a plan holds compiled regular expressions and lives for one evaluation.
public struct RetentionPlan {
    public let policy: RetentionPolicy
    private let patterns: [Regex<AnyRegexOutput>]

    /// Throws when a pattern is not a valid regular expression.
    public init(_ policy: RetentionPolicy) throws {
        self.policy = policy
        patterns = try policy.keepPatterns.map { try Regex($0) }
    }

    /// Decides for every tag of `repository`.
    ///
    /// - Parameters:
    ///   - needed: digests that other content needs to stay reachable by tag: children of
    ///     indexes whose tags are kept, and subjects of referrers (a signature or an SBOM
    ///     needs its image). A tag naming one of them is kept ("needed by ...") even when no
    ///     rule keeps it, so a policy never strands what an index or a referrer points at.
    ///   - now: the time the windows are measured from.
    public func decide(
        repository: String, tags: [RetainedTag], needed: [Digest: String], now: Date
    ) -> [RetentionDecision] {
        guard policy.hasRules else {
            return tags.map { .init(repository: repository, tag: $0.name, digest: $0.digest.description, keep: true, reason: "policy has no rules") }
        }
        // Newest first; ties by name so that the outcome does not depend on row order.
        let ordered = tags.sorted { ($0.pushedAt, $1.name) > ($1.pushedAt, $0.name) }
        return ordered.enumerated().map { index, tag in
            let (keep, reason) = verdict(tag, rank: index, needed: needed, now: now)
            return .init(repository: repository, tag: tag.name, digest: tag.digest.description, keep: keep, reason: reason)
        }
    }

    private func verdict(_ tag: RetainedTag, rank: Int, needed: [Digest: String], now: Date) -> (Bool, String) {
        if let last = policy.keepLast, rank < last {
            return (true, "among the \(last) most recently pushed")
        }
        for (pattern, regex) in zip(policy.keepPatterns, patterns) where (try? regex.wholeMatch(in: tag.name)) != nil {
            return (true, "matches \(pattern)")
        }
        if let window = policy.keepPushedWithin, now.timeIntervalSince(tag.pushedAt) < window.inSeconds {
            return (true, "pushed within \(Self.describe(window))")
        }
        if let window = policy.keepPulledWithin, let pulled = tag.pulledAt, now.timeIntervalSince(pulled) < window.inSeconds {
            return (true, "pulled within \(Self.describe(window))")
        }
        if let owner = needed[tag.digest] {
            return (true, "needed by \(owner)")
        }
        var reasons: [String] = []
        if let last = policy.keepLast { reasons.append("not among the \(last) most recently pushed") }
        if !policy.keepPatterns.isEmpty { reasons.append("matches no kept pattern") }
        if let window = policy.keepPushedWithin { reasons.append("not pushed within \(Self.describe(window))") }
        if let window = policy.keepPulledWithin { reasons.append("not pulled within \(Self.describe(window))") }
        return (false, reasons.joined(separator: ", "))
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = Int(duration.inSeconds)
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
