import Foundation
import RegistryCore

/// The metadata operations garbage collection needs. Each is one transaction; see
/// ``GarbageCollector`` for the rules they implement together.
public protocol CollectableMetadataStore: Sendable {
    /// Marks and sweeps rows (rolled back for a dry run): removes manifests not kept, blob
    /// links nothing needs, and the rows of blobs nothing links or references, queueing those
    /// blobs for deletion. Also drops expired reservations and pins.
    func sweep(_ options: CollectionOptions) async throws -> CollectionSweep

    /// Claims up to `limit` queued deletions for `collector`: digests that no blob row names,
    /// that no live reservation or pin protects, and that no other live claim holds. A claim
    /// older than `lease` counts as abandoned and may be taken over.
    func claimBlobDeletions(limit: Int, collector: String, lease: Duration) async throws -> [CollectionSweep.RemovedBlob]

    /// Drops `collector`'s claims on `digests` once their bytes are durably gone.
    func completeBlobDeletions(_ digests: [Digest], collector: String) async throws

    /// Queued deletions, as a dry run reports them.
    func pendingBlobDeletions() async throws -> [CollectionSweep.RemovedBlob]

    /// Removes the rows of upload sessions started before `cutoff` (none for a dry run) and
    /// returns their ids.
    func purgeUploads(startedBefore cutoff: Date, dryRun: Bool) async throws -> [String]

    /// Remembers a finished run (for metrics and `registryctl`).
    func recordCollection(_ report: CollectionReport, startedAt: Date) async throws
}

/// The metadata operations fsck needs.
public protocol CheckableMetadataStore: Sendable {
    /// Every recorded blob and its size.
    func recordedBlobs() async throws -> [Digest: Int64]
    /// `repository@manifest` of every manifest that references one of `digests`.
    func manifests(referencing digests: Set<Digest>) async throws -> [String]
    /// Forgets blobs whose bytes are gone: removes their repository links (so a client's next
    /// push uploads them again) and the rows of those that no manifest references.
    func forgetMissingBlobs(_ digests: Set<Digest>) async throws
}

/// Counts of what the registry holds, for metrics.
public protocol StatisticsSource: Sendable {
    func statistics() async throws -> RegistryStatistics
}

/// A consistent copy of the metadata taken while the registry serves.
public protocol SnapshottingMetadataStore: Sendable {
    /// Writes a copy of the metadata to `destination` and pins every blob the copy records:
    /// garbage collection deletes none of them until the snapshot is released.
    func snapshot(to destination: String) async throws -> MetadataSnapshot
    /// Ends a snapshot's pin.
    func release(_ snapshot: MetadataSnapshot) async throws
}

/// What ``SnapshottingMetadataStore/snapshot(to:)`` copied.
public struct MetadataSnapshot: Sendable {
    public var pin: String
    /// The blobs the copy records, each of which has its bytes until the pin is released.
    public var blobs: [Digest]

    public init(pin: String, blobs: [Digest]) {
        self.pin = pin
        self.blobs = blobs
    }

    /// How long a pin holds if its backup never releases it.
    public static let pinLifetime: Duration = .seconds(6 * 3600)
}

/// Every metadata store serves the registry and its maintenance commands.
public typealias MaintainableMetadataStore = MetadataStore & CollectableMetadataStore & CheckableMetadataStore
    & StatisticsSource & BrowsingMetadataStore & EnumerableMetadataStore

/// What the registry holds, counted from the database for the metrics endpoint.
public struct RegistryStatistics: Sendable, Equatable {
    public var blobs: Int = 0
    public var blobBytes: Int64 = 0
    public var manifests: Int = 0
    public var tags: Int = 0
    public var repositories: Int = 0
    public var uploadsInProgress: Int = 0
    /// Garbage collection runs recorded by `registryctl gc` (dry runs excluded).
    public var gcRuns: Int = 0
    public var gcBytesFreed: Int64 = 0
    public var lastGC: LastCollection?

    public init() {}

    public struct LastCollection: Sendable, Equatable {
        /// Seconds since 1970 when the run finished.
        public var finishedAt: Double
        public var seconds: Double
        public var bytesFreed: Int64
        public var blobsRemoved: Int
        public var manifestsRemoved: Int

        public init(finishedAt: Double, seconds: Double, bytesFreed: Int64, blobsRemoved: Int, manifestsRemoved: Int) {
            self.finishedAt = finishedAt
            self.seconds = seconds
            self.bytesFreed = bytesFreed
            self.blobsRemoved = blobsRemoved
            self.manifestsRemoved = manifestsRemoved
        }
    }
}

/// Tells running servers that another process (`registryctl gc`, `fsck --repair`) changed
/// the metadata, so that their caches start over.
///
/// The embedded implementation is a file under the storage root whose inode changes; a shared
/// database can use its own notification channel (PostgreSQL's LISTEN/NOTIFY).
public protocol ChangeNotifier: Sendable {
    /// A value that differs after every ``announce()`` anywhere. Cheap: read on every cache hit.
    func generation() -> UInt64
    /// Call after committing a change that running servers must see.
    func announce() async throws
}

/// Copies blobs out of the store into a folder laid out as a filesystem storage root, for
/// `registryctl backup`.
public protocol BlobExporting: Sendable {
    /// Puts each blob under `folder` (hard links where the store allows, copies otherwise),
    /// fsynced. Returns the bytes exported and whether they were linked.
    func export(_ digests: [Digest], into folder: String) async throws -> (bytes: Int64, linked: Bool)
}
