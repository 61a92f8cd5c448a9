import Foundation
import RegistryCore
import Synchronization

/// A read-through cache in front of a metadata store for the hottest lookups: manifests by
/// tag or digest and a repository's blob sizes.
///
/// Writes through this process invalidate the affected repository at once, so a client always
/// reads its own writes. `registryctl gc` and `fsck --repair` announce their changes through
/// a ``ChangeNotifier``, checked on every hit, which empties the cache. Anything else
/// (another server on the same database, later) becomes visible within ``timeToLive``. Nothing that decides whether data
/// is kept reads from here: manifest pushes check references inside the store's transaction.
public final class CachedMetadataStore: MetadataStore {
    public static let timeToLive: Duration = .seconds(2)
    static let capacity = 20_000

    private struct Entry<Value: Sendable>: Sendable {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    /// What is cached for one repository, keyed by reference or digest.
    private struct RepositoryEntries {
        var manifests: [String: Entry<StoredManifest>] = [:]
        var blobSizes: [String: Entry<Int64>] = [:]
    }

    private struct State {
        var repositories: [String: RepositoryEntries] = [:]
        /// Bumped by every write to a repository. A read that started before a write must not
        /// cache what it read: it may be the value the write replaced.
        var generations: [String: UInt64] = [:]
        var count = 0
        /// The external change signal when the entries were cached.
        var external: UInt64 = 0

        /// Empties the cache when another process announced a change.
        mutating func check(external current: UInt64) {
            guard current != external else { return }
            external = current
            repositories.removeAll()
            count = 0
            for key in generations.keys { generations[key, default: 0] &+= 1 }
        }

        mutating func invalidate(_ repository: RepositoryName) {
            generations[repository.value, default: 0] &+= 1
            if let removed = repositories.removeValue(forKey: repository.value) {
                count -= removed.manifests.count + removed.blobSizes.count
            }
        }

        func generation(_ repository: RepositoryName) -> UInt64 { generations[repository.value] ?? 0 }

        /// Makes room for one more entry; a full cache starts over rather than tracking age.
        mutating func reserve() {
            if count >= CachedMetadataStore.capacity {
                repositories.removeAll(keepingCapacity: true)
                count = 0
            }
            count += 1
        }
    }

    let base: any ServingMetadataStore
    private let changes: (any ChangeNotifier)?
    private let state = Mutex(State())

    public init(_ base: any ServingMetadataStore, changes: (any ChangeNotifier)?) {
        self.base = base
        self.changes = changes
    }

    // MARK: Cached reads

    public func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest? {
        try await cached(repository, reference.description, \.manifests) {
            try await base.manifest(reference, in: repository)
        }
    }

    public func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64? {
        try await cached(repository, digest.description, \.blobSizes) {
            try await base.blobSize(digest, in: repository)
        }
    }

    /// A fresh entry, or `fetch`'s answer, cached unless a write to the repository (or an
    /// external change) happened while fetching. Absent values are not cached.
    private func cached<Value: Sendable>(
        _ repository: RepositoryName, _ key: String,
        _ entries: WritableKeyPath<RepositoryEntries, [String: Entry<Value>]>,
        fetch: () async throws -> Value?
    ) async throws -> Value? {
        let now = ContinuousClock.now
        let external = changes?.generation() ?? 0
        let (hit, generation) = state.withLock { state in
            state.check(external: external)
            return (state.repositories[repository.value]?[keyPath: entries][key], state.generation(repository))
        }
        if let hit, hit.expires > now { return hit.value }
        guard let value = try await fetch() else { return nil }
        state.withLock { state in
            guard state.generation(repository) == generation else { return }
            state.reserve()
            state.repositories[repository.value, default: .init()][keyPath: entries][key] = Entry(
                value: value, expires: now + Self.timeToLive)
        }
        return value
    }

    // MARK: Writes invalidate the repository, before and after

    func invalidating<T>(_ repository: RepositoryName, _ write: () async throws -> T) async throws -> T {
        state.withLock { $0.invalidate(repository) }
        defer { state.withLock { $0.invalidate(repository) } }
        return try await write()
    }

    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws {
        try await invalidating(repository) { try await base.putManifest(manifest, in: repository, tag: tag) }
    }

    public func putManifests(_ puts: [ManifestPut], in repository: RepositoryName) async throws -> [RegistryError?] {
        try await invalidating(repository) { try await base.putManifests(puts, in: repository) }
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool {
        try await invalidating(repository) { try await base.deleteManifest(digest, in: repository) }
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool {
        try await invalidating(repository) { try await base.deleteTag(tag, in: repository) }
    }

    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool {
        try await invalidating(repository) { try await base.unlinkBlob(digest, from: repository) }
    }

    // MARK: Passed through

    public func reserveBlob(_ digest: Digest) async throws -> BlobReservation {
        try await base.reserveBlob(digest)
    }

    public func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?
    ) async throws {
        try await base.recordBlob(
            digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload)
    }

    public func releaseReservation(_ reservation: BlobReservation) async throws {
        try await base.releaseReservation(reservation)
    }

    public func reserveBlobs(_ digests: [Digest]) async throws -> [BlobReservation] {
        try await base.reserveBlobs(digests)
    }

    public func recordBlobs(_ records: [BlobRecord]) async throws {
        try await base.recordBlobs(records)
    }

    public func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool {
        try await base.mountBlob(digest, from: source, into: repository)
    }

    public func createUpload(_ session: UploadSession) async throws {
        try await base.createUpload(session)
    }

    public func updateUpload(id: String, staged: StagedUpload, expectedSize: Int64) async throws -> Bool {
        try await base.updateUpload(id: id, staged: staged, expectedSize: expectedSize)
    }

    public func upload(id: String) async throws -> UploadSession? { try await base.upload(id: id) }
    public func deleteUpload(id: String) async throws { try await base.deleteUpload(id: id) }
    public func uploadIDs() async throws -> Set<String> { try await base.uploadIDs() }

    public func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]? {
        try await base.tags(in: repository, after: last, limit: limit)
    }

    public func repositories(after last: String?, limit: Int?) async throws -> [String] {
        try await base.repositories(after: last, limit: limit)
    }

    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [StoredManifest]
    {
        try await base.referrers(of: subject, in: repository, artifactType: artifactType)
    }

    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool {
        try await base.mountBlobFromAnyRepository(digest, into: repository)
    }

    public func ping() async throws { try await base.ping() }
}
