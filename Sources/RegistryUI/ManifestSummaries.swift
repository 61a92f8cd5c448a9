import RegistryCore
import Synchronization

/// What the tag list shows of a manifest (kind, size, platforms, creation time), remembered by
/// repository and manifest digest. A manifest and its config are content-addressed, so what
/// they say never changes: a page of 50 tags parses each manifest and reads each config once,
/// not on every view (under load, parsing the rows' manifests was most of a page's cost).
/// Bounded: a full cache starts over (at most about 2 MiB).
final class ManifestSummaries: Sendable {
    struct Summary: Sendable {
        var kind: String
        var size: Int64?
        var platforms: String
        var created: String?
    }

    static let capacity = 8192

    private let entries = Mutex<[String: Summary]>([:])

    func summary(of manifest: Digest, in repository: RepositoryName) -> Summary? {
        entries.withLock { $0[Self.key(manifest, repository)] }
    }

    func remember(_ summary: Summary, of manifest: Digest, in repository: RepositoryName) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[Self.key(manifest, repository)] = summary
        }
    }

    /// Per repository: a repository sees a config only while the blob is linked there.
    private static func key(_ manifest: Digest, _ repository: RepositoryName) -> String {
        repository.value + "@" + manifest.description
    }
}
