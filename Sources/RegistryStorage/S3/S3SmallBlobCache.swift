import NIOCore
import RegistryCore
import Synchronization

/// Whole small blobs (image configs, tiny layers) as read from the bucket, kept in this
/// process's memory so that the next read of one needs no S3 request.
///
/// A streamed GET of a 1 KiB blob is a PostgreSQL lookup and an S3 GET; the S3 GET cost ten
/// times the lookup (663 against 3,278 requests a second, HEAD blob, on one RGW). Every pull
/// fetches its image's config blob, so these reads are frequent and small.
///
/// Safe without any invalidation across nodes: a blob's bytes never change under its digest,
/// and the registry asks the metadata store whether a repository holds the blob before it
/// opens one (``RegistryService/blob(_:in:)``), so a blob garbage collection removed answers
/// 404 however long its bytes stay here. Bytes are cached only when they hash to their digest.
/// Entries leave in the order they came (a full cache drops the oldest quarter), and this
/// node's own deletes and quarantines remove them at once.
final class S3SmallBlobCache: Sendable {
    /// Blobs shorter than this are cached; a read asks the bucket for this many bytes, so one
    /// request tells whether the blob is small.
    static let readSize = 64 * 1024

    /// The most bytes held.
    let capacity: Int

    private struct State {
        var blobs: [Digest: ByteBuffer] = [:]
        /// Digests in the order they were cached; `first` is where the live ones begin.
        var order: [Digest] = []
        var first = 0
        var bytes = 0

        mutating func evict(downTo limit: Int) {
            while bytes > limit, first < order.count {
                if let removed = blobs.removeValue(forKey: order[first]) { bytes -= removed.readableBytes }
                first += 1
            }
            if first > order.count / 2 {
                order.removeFirst(first)
                first = 0
            }
        }
    }

    private let state = Mutex(State())

    init(capacity: Int = 4 << 20) {
        self.capacity = capacity
    }

    /// The whole blob, when cached.
    func bytes(of digest: Digest) -> ByteBuffer? {
        state.withLock { $0.blobs[digest] }
    }

    /// Caches `bytes` as the whole of `digest` if they are small enough and hash to it.
    func insert(_ bytes: ByteBuffer, as digest: Digest) {
        guard bytes.readableBytes < Self.readSize, bytes.readableBytes <= capacity else { return }
        var hasher = DigestHasher(digest.algorithm)
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        guard hasher.finalize() == digest else { return }
        // A copy of exactly its size: the body may be a slice of a much larger socket read,
        // all of which the slice would keep alive.
        var copy = ByteBufferAllocator().buffer(capacity: bytes.readableBytes)
        copy.writeImmutableBuffer(bytes)
        state.withLock { state in
            guard state.blobs[digest] == nil else { return }
            if state.bytes + bytes.readableBytes > capacity { state.evict(downTo: capacity * 3 / 4 - bytes.readableBytes) }
            state.blobs[digest] = copy
            state.order.append(digest)
            state.bytes += copy.readableBytes
        }
    }

    func remove(_ digests: some Sequence<Digest>) {
        state.withLock { state in
            for digest in digests {
                if let removed = state.blobs.removeValue(forKey: digest) { state.bytes -= removed.readableBytes }
            }
        }
    }

    /// How many blobs and bytes are held (for tests).
    var usage: (blobs: Int, bytes: Int) {
        state.withLock { ($0.blobs.count, $0.bytes) }
    }
}

/// A range of a blob already in memory.
struct BufferedBlobReader: BlobReader {
    let bytes: ByteBuffer

    func stream(into consume: (ByteBuffer) async throws -> Void) async throws {
        if bytes.readableBytes > 0 { try await consume(bytes) }
    }
}
