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

        public init(repository: String, digest: String, size: Int64) {
            self.repository = repository
            self.digest = digest
            self.size = size
        }
    }

    public struct RemovedBlob: Sendable, Codable, Equatable {
        public var digest: String
        public var size: Int64

        public init(digest: String, size: Int64) {
            self.digest = digest
            self.size = size
        }
    }

    public var manifests: [RemovedManifest] = []
    /// In a dry run, the blobs that would be deleted: this sweep's and any a cut-short run
    /// left queued. A real run learns them by claiming queued deletions.
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

/// Garbage collection that is safe while any number of registry servers push and pull, on
/// one host or many, with no lock held across I/O and none held in a process's memory.
///
/// **Mark** (from the metadata store): every tagged manifest; every manifest unless
/// `deleteUntagged`; every manifest pushed within the grace period; then, until nothing
/// changes, the child manifests of every kept index and every manifest whose `subject` is a
/// kept manifest (referrers: signatures, SBOMs). All in the manifest's own repository.
///
/// **Sweep**, in one transaction: manifests not kept (their tags, blob references and child
/// references go with them); repository links to blobs that no manifest of that repository
/// references and that were made before the grace period; then the rows of blobs that
/// nothing links or references and that were stored before the grace period. Their digests
/// are queued for deletion.
///
/// **Delete**, in batches: claim queued digests (a transaction), delete their bytes, drop the
/// claims (another transaction). Then upload sessions older than `uploadAge` are purged.
///
/// **The invariant: a blob row is only ever recorded for durable bytes, and bytes are only
/// deleted when no row names them and none can appear until they are gone.** It rests on
/// four operations of the metadata store, each one transaction, that implementations must
/// serialize per digest (SQLite runs write transactions one at a time; a shared database uses
/// row locks or serializable transactions on the same rows):
///
/// 1. An upload *reserves* its digest before placing the bytes. A reservation is refused while
///    a live claim exists on that digest (the upload waits briefly and tries again).
/// 2. It places the bytes durably (fsync and rename; an S3 copy), then *records* the blob row
///    in a transaction that requires its reservation to be live and ends it.
/// 3. The collector *claims* a queued digest only if no blob row names it and no live
///    reservation or backup pin protects it.
/// 4. It deletes the claimed bytes, then drops the claim.
///
/// Take any upload of digest D and any claim of D. If the reservation committed first, the
/// claim sees it (3) and skips D until the reservation ends, which happens in the same
/// transaction that records the row — after which the claim sees the row. If the claim
/// committed first, the reservation is refused (1) until the claim is dropped (4), which
/// happens only after the bytes are gone; the upload then places its own bytes. Either way no
/// row is recorded while bytes the row relies on may still be deleted, and the collector never
/// deletes bytes a row names. A push that finds its blob being deleted is delayed, never
/// half-accepted.
///
/// Manifests: a manifest push checks, in its own transaction, that every blob it references is
/// linked in its repository with the declared size, and records the references in that same
/// transaction; the sweep's conditions are evaluated in the sweep's transaction. So a push
/// either commits first (its references keep the blobs out of the sweep) or after (it finds a
/// link gone and answers `MANIFEST_BLOB_UNKNOWN`, and the client uploads the blob again). The
/// grace period keeps what clients are pushing right now (layers before their manifest,
/// children before their index) out of the sweep altogether, so with the default grace pushes
/// are not even refused.
///
/// **Time.** Reservations and claims expire, so that a server or collector that dies cannot
/// block a digest forever; only the database's clock is compared with their times. A
/// collector stops deleting a batch once half of its claim's lease has passed on its own
/// monotonic clock, so a claim taken over after the lease was abandoned by then. The one
/// assumption: a collector is not suspended for longer than half a lease (five minutes)
/// between that check and an unlink of its batch, which takes about a second.
///
/// **Crashes.** Rows go first (all or nothing), bytes after. A run killed after its sweep
/// leaves queued or claimed deletions that the next run completes (taking over claims older
/// than the lease), and at worst bytes whose row is gone (found by fsck), never a row whose
/// bytes are gone.
public struct GarbageCollector: Sendable {
    public let blobs: any BlobStore
    public let metadata: any CollectableMetadataStore
    /// Tells running servers to drop cached metadata once the sweep has committed.
    public let changes: (any ChangeNotifier)?

    public init(blobs: any BlobStore, metadata: any CollectableMetadataStore, changes: (any ChangeNotifier)?) {
        self.blobs = blobs
        self.metadata = metadata
        self.changes = changes
    }

    /// Deletions claimed and completed at a time.
    static let batchSize = 5000
    /// How long a claim holds before another collector may take it over.
    public static let claimLease: Duration = .seconds(600)

    public func run(
        _ options: CollectionOptions, afterSweep: @Sendable () async throws -> Void = {},
        progress: @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> CollectionReport {
        let started = Date()
        let clock = ContinuousClock.now
        let sweep = try await metadata.sweep(options)
        let swept = ContinuousClock.now - clock
        if !options.dryRun { try await changes?.announce() }
        try await afterSweep()
        let removed = options.dryRun ? sweep.blobs : try await deleteQueuedBlobs(progress: progress)
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

    /// Claims queued deletions a batch at a time, deletes their bytes and drops the claims.
    private func deleteQueuedBlobs(
        progress: @Sendable (_ done: Int, _ total: Int) -> Void
    ) async throws -> [CollectionSweep.RemovedBlob] {
        let collector = UUID().uuidString.lowercased()
        let total = try await metadata.pendingBlobDeletions().count
        var removed: [CollectionSweep.RemovedBlob] = []
        while true {
            let claimedAt = ContinuousClock.now
            let batch = try await metadata.claimBlobDeletions(
                limit: Self.batchSize, collector: collector, lease: Self.claimLease)
            if batch.isEmpty { break }
            let digests = batch.compactMap { try? Digest(parsing: $0.digest) }
            guard ContinuousClock.now - claimedAt < Self.claimLease / 2 else {
                // Too slow to trust the claim: leave the batch to a later run.
                throw CollectionAbandoned()
            }
            try await blobs.delete(digests)
            try await metadata.completeBlobDeletions(digests, collector: collector)
            removed += batch
            progress(removed.count, max(total, removed.count))
        }
        return removed
    }
}

/// A batch took so long to claim that its lease could no longer be trusted.
struct CollectionAbandoned: Error, CustomStringConvertible {
    var description: String { "claiming a batch of deletions took longer than half its lease; run gc again" }
}

/// Purges upload sessions that clients abandoned: rows first, then staged bytes.
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
                try await blobs.discardUpload(id: id)
            }
        }
        return ids
    }
}
