import Foundation
import RegistryCore

/// A manifest as stored: its exact bytes and how to serve them.
public struct StoredManifest: Sendable {
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

/// An upload in progress, as recorded when it started.
public struct UploadSession: Sendable, Equatable {
    public var id: String
    public var repository: RepositoryName
    public var startedAt: Date
}

/// The index of repositories, blob links, manifests, tags and upload sessions.
///
/// SQLite is the embedded implementation; a shared database can take its place behind
/// the same calls when several servers run together.
public protocol MetadataStore: Sendable {
    // MARK: Uploads
    func createUpload(id: String, repository: RepositoryName) async throws
    func upload(id: String) async throws -> UploadSession?
    func deleteUpload(id: String) async throws
    /// Ids of every recorded upload session.
    func uploadIDs() async throws -> Set<String>

    // MARK: Blobs
    /// The size of a blob if `repository` may see it (it was pushed or mounted there).
    func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64?
    /// Records a blob and links it into `repository`, removes the finished upload's row, and runs
    /// `place` (which puts the blob's file in place), all under the store's write lock, in one
    /// transaction. Garbage collection deletes a blob's file only under the same lock and only
    /// when no row names the blob, so a recorded blob always has its file.
    func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, completingUpload: String?,
        place: @escaping @Sendable () throws -> Void
    ) async throws
    /// Links a blob that `source` can see into `repository`. False when `source` cannot see it.
    func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool
    /// Removes a blob from a repository's view. False when it was not linked.
    func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool

    // MARK: Manifests
    /// Stores a validated manifest and, with `tag`, points the tag at it — after checking,
    /// in the same transaction, that every blob and child manifest it references is in
    /// `repository` with the declared size. Throws ``RegistryError`` otherwise.
    func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws
    func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest?
    /// Deletes a manifest and the tags that name it. False when it was not there.
    func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool
    /// Deletes one tag. False when it was not there.
    func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool

    // MARK: Referrers and mounts without a source
    /// Manifests in `repository` whose `subject` is `subject`, oldest first; with
    /// `artifactType`, only those of that artifact type. Empty when there are none.
    func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [StoredManifest]
    /// Links a blob that any repository can see into `repository`. False when none can.
    func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool

    // MARK: Listing
    /// Tags in byte order after `last`, at most `limit`; nil when the repository is unknown.
    func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]?
    /// Repository names in byte order after `last`, at most `limit`.
    func repositories(after last: String?, limit: Int?) async throws -> [String]

    /// Checks that the database answers (health).
    func ping() async throws
}
