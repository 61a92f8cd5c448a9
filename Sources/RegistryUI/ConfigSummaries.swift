import RegistryCore
import Synchronization

/// What the tag list shows of an image's config (creation time and platform), remembered by
/// repository and config digest. A config is content-addressed, so what it says never changes:
/// a page of 50 tags reads each config once, not on every view. Bounded: a full cache starts
/// over (at most about 1 MiB).
final class ConfigSummaries: Sendable {
    struct Summary: Sendable {
        var created: String?
        var platform: String
    }

    static let capacity = 4096

    private let entries = Mutex<[String: Summary]>([:])

    func summary(of config: Digest, in repository: RepositoryName) -> Summary? {
        entries.withLock { $0[Self.key(config, repository)] }
    }

    func remember(_ summary: Summary, of config: Digest, in repository: RepositoryName) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[Self.key(config, repository)] = summary
        }
    }

    /// Per repository: a repository sees a config only while the blob is linked there.
    private static func key(_ config: Digest, _ repository: RepositoryName) -> String {
        repository.value + "@" + config.description
    }
}
