import NIOCore
import RegistryCore

/// Content-addressed blob bytes and the staging area for uploads in progress.
///
/// The filesystem is the embedded implementation; an object store can take its place
/// behind the same calls. It knows nothing of repositories: that is the metadata store's job.
public protocol BlobStore: Sendable {
    /// The size of a stored blob, or nil when there is none.
    func size(of digest: Digest) async throws -> Int64?

    /// Streams `range` of a blob to `consume`, in chunks, never holding the whole blob.
    func read(
        _ digest: Digest, range: Range<Int64>, into consume: (ByteBuffer) async throws -> Void
    ) async throws

    /// Removes a blob's bytes. Absent blobs are not an error.
    func delete(_ digest: Digest) async throws

    /// Creates an empty staging file for an upload.
    func createUpload(id: String) async throws

    /// The number of bytes staged for an upload, or nil when it has no staging file.
    func uploadSize(id: String) async throws -> Int64?

    /// Appends a request body to an upload's staging file at `offset`, hashing as it goes.
    ///
    /// All or nothing: when the body fails part-way, the file is cut back to `offset`, the
    /// hasher is left as it was, and the error is rethrown.
    /// - Returns: the number of bytes appended.
    func appendToUpload<Body: AsyncSequence & Sendable>(
        id: String, at offset: Int64, from body: Body, hasher: inout DigestHasher, limit: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer

    /// Re-hashes what an upload has staged, for a session whose hash state was lost (a restart).
    func hashUpload(id: String, algorithm: DigestAlgorithm) async throws -> (hasher: DigestHasher, size: Int64)

    /// Makes a verified upload the blob `digest`, durably: fsync, rename, fsync the folder.
    /// When the blob is already stored the staged copy is discarded.
    func commitUpload(id: String, as digest: Digest) async throws

    /// Discards an upload's staging file.
    func removeUpload(id: String) async throws

    /// Ids of every staged upload.
    func uploadIDs() async throws -> [String]

    /// Checks that the store accepts writes (health).
    func checkWritable() async throws
}
