import Foundation
import RegistryCore

/// What a garbage collection run may remove.
public struct CollectionOptions: Sendable {
    /// Also remove manifests that no tag names (and that no kept index or subject keeps).
    public var deleteUntagged: Bool
    /// Blobs linked or stored, and manifests pushed, within this window are kept.
    public var grace: Duration
    /// Upload sessions started before this window are purged.
    public var uploadAge: Duration
    /// Report what would go, change nothing.
    public var dryRun: Bool

    public init(deleteUntagged: Bool = false, grace: Duration = .seconds(3600), uploadAge: Duration = .seconds(168 * 3600), dryRun: Bool = false) {
        self.deleteUntagged = deleteUntagged
        self.grace = grace
        self.uploadAge = uploadAge
        self.dryRun = dryRun
    }
}

/// The rows one sweep removed (or, in a dry run, would remove).
public struct CollectionSweep: Sendable {
    public struct RemovedManifest: Sendable, Codable, Equatable {
        public var repository: String
        public var digest: String
        public var size: Int64
    }

    public struct RemovedBlob: Sendable, Codable, Equatable {
        public var digest: String
        public var size: Int64
    }

    public var manifests: [RemovedManifest] = []
    /// Blobs whose files are to be deleted: this sweep's and any a cut-short run left behind.
    public var blobs: [RemovedBlob] = []

    public init() {}
}

/// The summary of a run, as `registryctl gc` prints it.
public struct CollectionReport: Sendable, Codable {
    public var dryRun: Bool
    public var manifestsRemoved: Int
    public var blobsRemoved: Int
    public var bytesFreed: Int64
    public var uploadsRemoved: Int
    /// Whole run, and the part spent marking and sweeping rows.
    public var seconds: Double
    public var sweepSeconds: Double
    public var manifests: [CollectionSweep.RemovedManifest]
    public var blobs: [CollectionSweep.RemovedBlob]
}

/// The metadata operations garbage collection needs. Each is atomic on its own.
public protocol CollectableMetadataStore: Sendable {
    /// Marks and sweeps rows in one write transaction (rolled back for a dry run); see
    /// ``GarbageCollector`` for the rules.
    func sweep(_ options: CollectionOptions) async throws -> CollectionSweep

    /// Under the write lock: runs `delete` (which removes files durably) for the digests that
    /// no row names any more, then drops the pending deletions and commits. Returns the digests
    /// `delete` ran for.
    func completeBlobDeletions(
        _ digests: [Digest], delete: @escaping @Sendable ([Digest]) throws -> Void
    ) async throws -> Set<Digest>

    /// Removes the rows of upload sessions started before `cutoff` (none for a dry run) and
    /// returns their ids.
    func purgeUploads(startedBefore cutoff: Date, dryRun: Bool) async throws -> [String]

    /// Remembers a finished run (for metrics and `registryctl`).
    func recordCollection(_ report: CollectionReport, startedAt: Date) async throws
}

/// Garbage collection that is safe while registryd serves.
///
/// **Mark** (from the metadata store): every tagged manifest; every manifest unless
/// `deleteUntagged`; every manifest pushed within the grace period; then, until nothing
/// changes, the child manifests of every kept index and every manifest whose `subject` is a
/// kept manifest (referrers: signatures, SBOMs). All in the manifest's own repository.
///
/// **Sweep**, in one write transaction: manifests not kept (their tags, blob references and
/// child references go with them); repository links to blobs that no manifest of that
/// repository references and that were made before the grace period; then the rows of blobs
/// that nothing links or references and that were stored before the grace period, which are
/// queued in `blob_deletion`. Files go after the rows, each under the write lock and only
/// when no row names the blob again. Then upload sessions older than `uploadAge` are purged.
///
/// **Why a push racing gc loses nothing.** A manifest push checks, inside its own write
/// transaction, that every blob it references is linked in its repository, and records the
/// references in that same transaction. SQLite runs write transactions one at a time, so a
/// push either commits first — its references then keep the blob out of the sweep, whose
/// conditions are evaluated inside the sweep's transaction — or commits after the sweep
/// removed the link, and then finds the blob missing and answers `MANIFEST_BLOB_UNKNOWN`, so
/// the client uploads it again. A blob upload records its row and renames its file into place
/// under the same write lock, and gc deletes a file only under that lock after checking that
/// no row names the blob; so a file is never deleted from under a recorded blob, and a blob
/// re-uploaded while its deletion is pending keeps its file. The grace period keeps what
/// clients are pushing right now (layers uploaded before their manifest, children before
/// their index) out of the sweep altogether, so with the default grace pushes are not even
/// refused; with `--grace 0s` they may be refused, never half-accepted.
///
/// **Crash safety.** Rows go first (one transaction: all or nothing), files after. A run cut
/// short leaves queued deletions that the next run completes, and at worst a file whose row
/// is gone (found by fsck), never a row whose file is gone.
public struct GarbageCollector: Sendable {
    public let blobs: any BlobStore
    public let metadata: any CollectableMetadataStore
    /// Tells running servers to drop cached metadata once the sweep has committed.
    public let changeSignal: ExternalChangeSignal?

    public init(blobs: any BlobStore, metadata: any CollectableMetadataStore, changeSignal: ExternalChangeSignal?) {
        self.blobs = blobs
        self.metadata = metadata
        self.changeSignal = changeSignal
    }

    /// Files deleted per write transaction.
    static let batchSize = 5000

    public func run(
        _ options: CollectionOptions, afterSweep: @Sendable () async -> Void = {},
        progress: @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> CollectionReport {
        let started = Date()
        let clock = ContinuousClock.now
        let sweep = try await metadata.sweep(options)
        let swept = ContinuousClock.now - clock
        if !options.dryRun, let signal = changeSignal { try signal.announce() }
        await afterSweep()
        var removed: [CollectionSweep.RemovedBlob] = []
        if options.dryRun {
            removed = sweep.blobs
        } else {
            let sizes = Dictionary(sweep.blobs.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
            let digests = sweep.blobs.compactMap { try? Digest(parsing: $0.digest) }
            let store = blobs
            var done = 0
            for start in stride(from: 0, to: digests.count, by: Self.batchSize) {
                let batch = Array(digests[start..<min(start + Self.batchSize, digests.count)])
                let deleted = try await metadata.completeBlobDeletions(batch) { try store.deleteBlobFiles($0) }
                removed += batch.filter(deleted.contains).map {
                    .init(digest: $0.description, size: sizes[$0.description] ?? 0)
                }
                done += batch.count
                progress(done, digests.count)
            }
        }
        let uploads = try await UploadPurger(blobs: blobs, metadata: metadata)
            .purge(olderThan: options.uploadAge, dryRun: options.dryRun)
        let elapsed = ContinuousClock.now - clock
        let report = CollectionReport(
            dryRun: options.dryRun, manifestsRemoved: sweep.manifests.count, blobsRemoved: removed.count,
            bytesFreed: removed.reduce(0) { $0 + $1.size }, uploadsRemoved: uploads.count,
            seconds: elapsed.inSeconds, sweepSeconds: swept.inSeconds,
            manifests: sweep.manifests, blobs: removed)
        if !options.dryRun {
            try await metadata.recordCollection(report, startedAt: started)
        }
        return report
    }
}

/// Purges upload sessions that clients abandoned: rows first, then staged files.
public struct UploadPurger: Sendable {
    public let blobs: any BlobStore
    public let metadata: any CollectableMetadataStore

    public init(blobs: any BlobStore, metadata: any CollectableMetadataStore) {
        self.blobs = blobs
        self.metadata = metadata
    }

    /// - Returns: the ids purged (or, for a dry run, that would be).
    public func purge(olderThan age: Duration, dryRun: Bool) async throws -> [String] {
        let cutoff = Date().addingTimeInterval(-age.inSeconds)
        let ids = try await metadata.purgeUploads(startedBefore: cutoff, dryRun: dryRun)
        if !dryRun {
            for id in ids {
                try await blobs.removeUpload(id: id)
            }
        }
        return ids
    }
}
