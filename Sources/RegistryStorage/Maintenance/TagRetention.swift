import Foundation
import RegistryCore

/// What one application of the retention policies decided and did.
public struct RetentionReport: Sendable, Codable {
    /// Every tag of every repository a policy covers, kept or not, and why.
    public var decisions: [RetentionDecision] = []
    public var dryRun: Bool
    public var tagsDeleted: Int { dryRun ? 0 : decisions.filter { !$0.keep }.count }
    public var tagsToDelete: Int { decisions.filter { !$0.keep }.count }

    enum CodingKeys: String, CodingKey {
        case decisions, dryRun
    }

    public init(dryRun: Bool) {
        self.dryRun = dryRun
    }
}

/// Applies retention policies (`berth.retention`, and the expiry of mirrored content) to the
/// tags of the repositories they cover, deleting the tags they do not keep. What those tags
/// named becomes untagged; the garbage collection that follows removes it once older than the
/// grace period, and the blobs nothing else needs with it.
///
/// Safe while registryd serves: each tag deletion is one transaction of the store, and a tag
/// pushed again after the plan was made is pushed again: the deletion names the tag and
/// checks nothing else, so at worst a tag that was moved a moment ago is deleted and the
/// client pushes it again; the plan never deletes more than the policies say of the tags it
/// read. Dry runs read only.
public struct TagRetention: Sendable {
    public let metadata: any MetadataStore & BrowsingMetadataStore
    public let changes: (any ChangeNotifier)?

    public init(metadata: any MetadataStore & BrowsingMetadataStore, changes: (any ChangeNotifier)?) {
        self.metadata = metadata
        self.changes = changes
    }

    /// One policy per mirror with an expiry: a cached tag that was neither pulled nor fetched
    /// again from the upstream within it goes (the upstream still has it; a later pull
    /// fetches it again).
    public static func expiryPolicies(for configuration: RegistryConfiguration) -> [RetentionPolicy] {
        configuration.mirrors.filter { $0.expiry > .zero }.map { mirror in
            var policy = RetentionPolicy(repositories: [mirror.prefix.isEmpty ? "*" : mirror.prefix + "/*"])
            policy.keepPushedWithin = mirror.expiry
            policy.keepPulledWithin = mirror.expiry
            return policy
        }
    }

    /// True when retention would delete anything: enabled policies, or a mirror's expiry.
    public static func applies(_ configuration: RegistryConfiguration) -> Bool {
        (configuration.berth.retention.enabled && !configuration.berth.retention.policies.isEmpty)
            || !expiryPolicies(for: configuration).isEmpty
    }

    public func run(_ policies: [RetentionPolicy], dryRun: Bool, now: Date = Date()) async throws -> RetentionReport {
        var report = RetentionReport(dryRun: dryRun)
        guard !policies.isEmpty else { return report }
        var last: String?
        while true {
            let page = try await metadata.repositories(after: last, limit: 1000)
            guard let final = page.last else { break }
            last = final
            for name in page {
                guard let policy = policies.first(where: { $0.covers(name) }),
                    let repository = try? RepositoryName(name)
                else { continue }
                report.decisions += try await apply(policy, to: repository, dryRun: dryRun, now: now)
            }
        }
        if !dryRun, report.tagsDeleted > 0 { try await changes?.announce() }
        return report
    }

    private func apply(
        _ policy: RetentionPolicy, to repository: RepositoryName, dryRun: Bool, now: Date
    ) async throws -> [RetentionDecision] {
        let tags = try await allTags(of: repository)
        guard !tags.isEmpty else { return [] }
        let plan = try RetentionPlan(policy)
        let retained = tags.map { tag in
            RetainedTag(
                name: tag.name, digest: tag.manifest.digest, pushedAt: tag.pushedAt,
                pulledAt: [tag.pulledAt, tag.manifestPulledAt].compactMap { $0 }.max())
        }
        // What the kept content needs: the children of kept indexes, and every tagged
        // manifest that a referrer (signature, SBOM, attestation) points at.
        let first = plan.decide(repository: repository.value, tags: retained, needed: [:], now: now)
        let kept = Set(first.filter(\.keep).map(\.tag))
        var needed: [Digest: String] = [:]
        for tag in tags {
            if kept.contains(tag.name),
                let manifest = try? Manifest(bytes: tag.manifest.bytes, contentType: tag.manifest.mediaType)
            {
                for child in manifest.children where needed[child.digest] == nil {
                    needed[child.digest] = "index \(repository.value):\(tag.name)"
                }
            }
            if needed[tag.manifest.digest] == nil,
                let referrer = try await metadata.referrers(of: tag.manifest.digest, in: repository, artifactType: nil).first
            {
                needed[tag.manifest.digest] = "referrer \(referrer.digest)"
            }
        }
        let decisions = plan.decide(repository: repository.value, tags: retained, needed: needed, now: now)
        if !dryRun {
            for decision in decisions where !decision.keep {
                guard let tag = try? Tag(decision.tag) else { continue }
                _ = try await metadata.deleteTag(tag, in: repository)
            }
        }
        return decisions
    }

    private func allTags(of repository: RepositoryName) async throws -> [TagSummary] {
        var tags: [TagSummary] = []
        var cursor: ListingCursor?
        while true {
            guard let page = try await metadata.tagSummaries(
                in: repository, matching: "", order: .name, after: cursor, limit: 1000), let last = page.last
            else { break }
            tags += page
            cursor = ListingCursor(after: last)
        }
        return tags
    }
}
