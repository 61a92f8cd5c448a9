import NIOCore
import RegistryCore

/// Content-addressed blob bytes and the staging area for uploads in progress.
///
/// The filesystem is the embedded implementation; an object store can take its place
/// behind the same calls. It knows nothing of repositories: that is the metadata store's job.
public protocol BlobStore: Sendable {
    /// The size of a stored blob, or nil when there is none.
    func size(of digest: Digest) async throws -> Int64?

    /// Opens `range` of a blob for streaming, or nil when its file is missing. Opening first
    /// lets a server answer 404 before it has promised a body.
    func open(_ digest: Digest, range: Range<Int64>) async throws -> (any BlobReader)?

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

    /// Flushes an upload's staged bytes to stable storage (fsync), before it is placed.
    func syncUpload(id: String) async throws

    /// Puts a synced upload in place as the blob `digest` (rename, then fsync the folder), unless
    /// the blob is already stored. Blocking: the metadata store calls it while it holds its write
    /// lock, so that placing a blob and garbage collection's deleting one never interleave.
    /// - Returns: true when the staged file became the blob, false when the blob was there.
    func placeUpload(id: String, as digest: Digest) throws -> Bool

    /// Removes blobs' files durably. Blocking, for the same reason as ``placeUpload(id:as:)``.
    func deleteBlobFiles(_ digests: [Digest]) throws

    /// Discards an upload's staging file.
    func removeUpload(id: String) async throws

    /// Every blob whose file is stored (a full walk: for fsck, not for serving).
    func storedBlobs() async throws -> [Digest]

    /// Moves a blob's file aside, out of the store, for an operator to inspect.
    func quarantine(_ digest: Digest) async throws

    /// Ids of every staged upload.
    func uploadIDs() async throws -> [String]

    /// Checks that the store accepts writes (health).
    func checkWritable() async throws
}

/// An opened blob range, streamed in chunks, never held whole.
public protocol BlobReader: Sendable {
    /// Streams the range to `consume`; call once.
    func stream(into consume: (ByteBuffer) async throws -> Void) async throws
}

extension BlobStore {
    /// Streams `range` of a blob to `consume`; throws when the file is missing.
    public func read(
        _ digest: Digest, range: Range<Int64>, into consume: (ByteBuffer) async throws -> Void
    ) async throws {
        guard let reader = try await open(digest, range: range) else {
            throw RegistryError(.blobUnknown, "blob file is missing", detail: digest.description)
        }
        try await reader.stream(into: consume)
    }
}
