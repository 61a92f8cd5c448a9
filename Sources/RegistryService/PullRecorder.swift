import Foundation
import RegistryCore
import RegistryStorage
import Synchronization

/// Records manifest pulls off the request path. A pull only notes its tag or digest in a
/// dictionary under a lock (no I/O, no await); ``flush()`` writes everything noted since the
/// last flush in one transaction through ``BrowsingMetadataStore/recordPulls(_:)``.
///
/// registryd flushes every ``interval`` and once more after the last request at shutdown, so
/// a pull adds no write to its request, and a tag pulled a thousand times in an interval
/// costs one row update. A crash loses at most one interval of pull times: they are hints
/// (for the web UI and tag retention), not data.
public final class PullRecorder: Sendable {
    /// How often registryd flushes.
    public static let interval: Duration = .seconds(5)
    /// The most distinct tags and manifests held between flushes. Pulls of further ones are
    /// dropped until the next flush, so that a flood of distinct references cannot grow
    /// memory without bound (about 1 MiB at this size); pulls of those held still count.
    public static let capacity = 10_000

    private struct Key: Hashable {
        var repository: RepositoryName
        var reference: Reference
    }

    private let store: any BrowsingMetadataStore
    private let pending = Mutex<[Key: Date]>([:])

    public init(store: any BrowsingMetadataStore) {
        self.store = store
    }

    /// Notes a pull of `reference` in `repository` now.
    public func note(_ reference: Reference, in repository: RepositoryName, at time: Date = Date()) {
        let key = Key(repository: repository, reference: reference)
        pending.withLock { pending in
            if pending[key] != nil || pending.count < Self.capacity { pending[key] = time }
        }
    }

    /// Pulls noted and not yet written.
    public var pendingCount: Int { pending.withLock { $0.count } }

    /// Writes the pulls noted since the last flush, in one transaction. When the store fails
    /// they are kept for the next flush (within ``capacity``) and the error is thrown.
    public func flush() async throws {
        let batch = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordPulls(
                batch.map { PullRecord(repository: $0.key.repository, reference: $0.key.reference, time: $0.value) })
        } catch {
            pending.withLock { pending in
                for (key, time) in batch where pending[key] != nil || pending.count < Self.capacity {
                    pending[key] = max(pending[key] ?? time, time)
                }
            }
            throw error
        }
    }
}
