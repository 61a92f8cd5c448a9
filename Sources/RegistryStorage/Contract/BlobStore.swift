import NIOCore
import RegistryCore

/// Content-addressed blob bytes and the staging area for uploads in progress.
///
/// The filesystem is the embedded implementation; an object store takes its place behind the
/// same calls. Every call is asynchronous and may run on any server of a fleet. The store
/// knows nothing of repositories or rows: that is the metadata store's job, and the rules that
/// keep the two consistent (a row only for durable bytes, bytes deleted only when no row names
/// them) are stated on ``GarbageCollector``.
///
/// Staging fits object storage: an upload's bytes may be kept however the store likes (the
/// filesystem appends to one file; S3 uses a multipart upload whose parts are at least 5 MiB
/// except the last, keeping a smaller remainder durably until more arrives), and what it needs
/// to find them again is returned in a ``StagedUpload`` that the metadata store keeps with the
/// session, so that the next request can go to another server.
public protocol BlobStore: Sendable {
    // MARK: Reading

    /// The size of a stored blob, or nil when there is none.
    func size(of digest: Digest) async throws -> Int64?

    /// Opens `range` of a blob for streaming, or nil when it is missing. Opening first lets a
    /// server answer 404 before it has promised a body.
    func open(_ digest: Digest, range: Range<Int64>) async throws -> (any BlobReader)?

    /// A URL from which a client may fetch the blob itself for a while (Distribution's
    /// `RedirectURL`), or nil when the registry must stream the bytes (the filesystem).
    func redirectURL(for digest: Digest, method: BlobRedirectMethod) async throws -> String?

    /// False when ``redirectURL(for:method:)`` is always nil, so that readers need not ask.
    var offersRedirects: Bool { get }

    // MARK: Staging uploads

    /// Starts staging an upload with an empty body.
    func beginUpload(id: String) async throws -> StagedUpload

    /// The upload as the store actually holds it, given what the metadata store recorded:
    /// the same value when they agree; otherwise the store's own account (the filesystem
    /// store re-hashes a staging file whose size differs after a crash).
    func reconcile(_ upload: StagedUpload) async throws -> StagedUpload

    /// Appends a request body, hashing as it goes, and returns the upload's new state.
    ///
    /// All or nothing: when the body fails part-way, or its length differs from
    /// `expectedLength` (the request's `Content-Length`), the staged bytes are left as they
    /// were and the error is rethrown.
    func append<Body: AsyncSequence & Sendable>(
        _ body: Body, to upload: StagedUpload, expectedLength: Int64?
    ) async throws -> StagedUpload where Body.Element == ByteBuffer

    /// Hashes the staged bytes again with `algorithm` (a digest of another algorithm than the
    /// running hash, or a running hash that could not be resumed).
    func rehash(_ upload: StagedUpload, algorithm: DigestAlgorithm) async throws -> DigestHasher

    /// Makes the staged bytes durable as the blob `digest`. Content-addressed: when the blob
    /// is already stored, the stored copy stands. Call only while holding a reservation of the
    /// digest (``MetadataStore/reserveBlob(_:)``).
    func commitUpload(_ upload: StagedUpload, as digest: Digest) async throws

    /// Discards what an upload staged. Needs only the id, so that purging and startup
    /// recovery can clean up after sessions whose state is lost. Nothing staged is not an error.
    func discardUpload(id: String) async throws

    /// Ids of every upload with staged bytes.
    func stagedUploadIDs() async throws -> [String]

    // MARK: Deleting

    /// Deletes blobs durably. Only garbage collection calls it, for digests it has claimed.
    func delete(_ digests: [Digest]) async throws

    // MARK: Maintenance

    /// Every stored blob (a full walk: for fsck, not for serving).
    func storedBlobs() async throws -> [Digest]

    /// Moves a blob aside, out of the store, for an operator to inspect.
    func quarantine(_ digest: Digest) async throws

    /// Checks that the store accepts writes (health).
    func checkWritable() async throws
}

/// The request a redirect URL is made for (a presigned URL is valid for one method).
public enum BlobRedirectMethod: Sendable {
    case get
    case head
}

/// An opened blob range, streamed in chunks, never held whole.
public protocol BlobReader: Sendable {
    /// Streams the range to `consume`; call once.
    func stream(into consume: (ByteBuffer) async throws -> Void) async throws
}

extension BlobStore {
    /// Streams `range` of a blob to `consume`; throws when the blob is missing.
    public func read(
        _ digest: Digest, range: Range<Int64>, into consume: (ByteBuffer) async throws -> Void
    ) async throws {
        guard let reader = try await open(digest, range: range) else {
            throw RegistryError(.blobUnknown, "blob file is missing", detail: digest.description)
        }
        try await reader.stream(into: consume)
    }

    /// Hashes a whole stored blob, returning its digest (with the algorithm of `digest`) and
    /// size, or nil when it is missing.
    public func hash(_ digest: Digest) async throws -> (digest: Digest, size: Int64)? {
        guard let size = try await size(of: digest) else { return nil }
        var hasher = DigestHasher(digest.algorithm)
        try await read(digest, range: 0..<size) { chunk in
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        return (hasher.finalize(), size)
    }
}
