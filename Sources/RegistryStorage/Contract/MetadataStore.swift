import Foundation
import RegistryCore

/// A manifest as stored: its exact bytes and how to serve them.
public struct StoredManifest: Sendable, Equatable {
    public var digest: Digest
    public var mediaType: String
    public var bytes: [UInt8]
    public var subject: Digest?
    public var artifactType: String?

    public init(digest: Digest, mediaType: String, bytes: [UInt8], subject: Digest? = nil, artifactType: String? = nil) {
        self.digest = digest
        self.mediaType = mediaType
        self.bytes = bytes
        self.subject = subject
        self.artifactType = artifactType
    }
}

/// An upload session: where it goes, when it began, and what is staged so far.
public struct UploadSession: Sendable, Equatable {
    public var id: String
    public var repository: RepositoryName
    public var startedAt: Date
    public var staged: StagedUpload

    public init(id: String, repository: RepositoryName, startedAt: Date, staged: StagedUpload) {
        self.id = id
        self.repository = repository
        self.startedAt = startedAt
        self.staged = staged
    }
}

/// A promise by the metadata store that garbage collection will not delete a digest's bytes
/// while an upload places them and records its row. See ``GarbageCollector`` for the rules.
public struct BlobReservation: Sendable, Equatable {
    public var token: String
    public var digest: Digest

    public init(token: String, digest: Digest) {
        self.token = token
        self.digest = digest
    }

    /// How long a reservation holds. An upload whose bytes take longer to place is refused at
    /// the end (and retried by its client) rather than recorded without its bytes.
    public static let lifetime: Duration = .seconds(3600)
}

/// The metadata store cannot reserve a digest now: garbage collection is deleting its bytes.
/// Transient: once the deletion is done the digest can be uploaded again.
public struct BlobBeingDeleted: Error, Sendable {
    public var digest: Digest
    public init(digest: Digest) { self.digest = digest }
}

/// The index of repositories, blob links, manifests, tags and upload sessions.
///
/// SQLite is the embedded implementation; a shared database takes its place when several
/// servers run together. Each call is one operation with its own transaction: no caller runs
/// code inside a store's transaction, and no rule depends on one process holding a lock.
/// Every implementation passes the contract suite in `Tests/StoreContractTests`.
public protocol MetadataStore: Sendable {
    // MARK: Upload sessions

    /// Records a new session.
    func createUpload(_ session: UploadSession) async throws
    func upload(id: String) async throws -> UploadSession?
    /// Replaces a session's staged state if it still records `expectedSize` bytes (no other
    /// request appended meanwhile). False when the session is gone or has moved on.
    func updateUpload(id: String, staged: StagedUpload, expectedSize: Int64) async throws -> Bool
    func deleteUpload(id: String) async throws
    /// Ids of every recorded session.
    func uploadIDs() async throws -> Set<String>

    // MARK: Blobs

    /// The size of a blob if `repository` may see it (it was pushed or mounted there).
    func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64?
    /// Reserves a digest before its bytes are placed, so that garbage collection leaves them
    /// alone until ``recordBlob(_:size:in:reservation:completingUpload:)``.
    /// - Throws: ``BlobBeingDeleted`` while garbage collection is deleting the digest's bytes.
    func reserveBlob(_ digest: Digest) async throws -> BlobReservation
    /// Records a blob whose bytes are durable, links it into `repository`, removes the finished
    /// upload's session, and ends the reservation, in one transaction.
    /// - Throws: `BLOB_UPLOAD_INVALID` (retry later) when the reservation expired.
    func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?
    ) async throws
    /// Ends a reservation whose upload failed before it was recorded.
    func releaseReservation(_ reservation: BlobReservation) async throws
    /// Reserves several digests at once (a bulk import): all, or none when one is refused.
    /// Default: ``reserveBlob(_:)`` in a loop.
    /// - Throws: ``BlobBeingDeleted`` naming a digest that garbage collection is deleting.
    func reserveBlobs(_ digests: [Digest]) async throws -> [BlobReservation]
    /// Records several blobs whose bytes are all durable, each under its live reservation
    /// (which ends), linked into its repositories. Default: one
    /// ``recordBlob(_:size:in:reservation:completingUpload:)`` each, then mounts.
    /// - Throws: `BLOB_UPLOAD_INVALID` when a reservation expired (a one-transaction
    ///   implementation then records none of the batch).
    func recordBlobs(_ records: [BlobRecord]) async throws
    /// Links a blob that `source` can see into `repository`. False when `source` cannot see it.
    func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool
    /// Links a blob that any repository can see into `repository`. False when none can.
    func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool
    /// Removes a blob from a repository's view. False when it was not linked.
    func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool

    // MARK: Manifests

    /// Stores a validated manifest and, with `tag`, points the tag at it, after checking in the
    /// same transaction that every blob and child manifest it references is in `repository`
    /// with the declared size. Throws ``RegistryError`` otherwise.
    func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws
    /// Several ``putManifest(_:in:tag:)`` calls in order (each sees the ones before it), for a
    /// bulk import. Returns each put's refusal (nil when it was stored); a refused put changes
    /// nothing and the others still happen. Default: a loop of single puts.
    func putManifests(_ puts: [ManifestPut], in repository: RepositoryName) async throws -> [RegistryError?]
    func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest?
    /// Deletes a manifest and the tags that name it. False when it was not there.
    func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool
    /// Deletes one tag. False when it was not there.
    func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool
    /// Manifests in `repository` whose `subject` is `subject`, oldest first; with
    /// `artifactType`, only those of that artifact type.
    func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [StoredManifest]

    // MARK: Listing

    /// Tags in byte order after `last`, at most `limit`; nil when the repository is unknown.
    func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]?
    /// Repository names in byte order after `last`, at most `limit`.
    func repositories(after last: String?, limit: Int?) async throws -> [String]

    /// Checks that the database answers (health).
    func ping() async throws
}
