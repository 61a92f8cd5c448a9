import AsyncHTTPClient
import Glibc
import NIOCore
import NIOPosix
import RegistryCore
import S3Client

/// One S3 part (or an upload's tail) on its way to the bucket, kept in a local file rather than
/// in memory: with eight uploads in flight and 10 MiB parts, buffers alone would hold 80 MiB.
/// The file is unlinked as soon as it is opened, so a crash leaves nothing behind; it is only a
/// staging copy, since a part counts once S3 has acknowledged it. Bytes are gathered to 256 KiB
/// before each write, and the SHA-256 that signs the part is computed as they arrive, so the
/// upload is signed (and retried) as a part in memory would be.
struct S3PartSpool {
    private let file: OpenFile
    private let path: String
    /// Bytes in the part: written to the file, then still gathered in `pending`.
    private(set) var size: Int64 = 0
    private var written: Int64 = 0
    private var pending = ByteBuffer()
    private var hasher = DigestHasher(.sha256)

    /// The size of each write to the spool file, and of each read when the part is sent.
    static let writeSize = 256 * 1024

    private init(file: OpenFile, path: String) {
        self.file = file
        self.path = path
    }

    /// A new, empty spool file in `directory` (made when missing).
    static func make(in directory: String) async throws -> S3PartSpool {
        try await NIOThreadPool.singleton.runIfActive {
            try POSIXFile.makeDirectories(directory)
            let path = directory + "/s3-part-" + UUIDString.make()
            let fd = try POSIXFile.open(path, O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
            try? POSIXFile.remove(path)
            return S3PartSpool(file: OpenFile(fd), path: path)
        }
    }

    mutating func append(_ chunk: ByteBuffer) async throws {
        guard chunk.readableBytes > 0 else { return }
        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        size += Int64(chunk.readableBytes)
        if pending.readableBytes + chunk.readableBytes > Self.writeSize { try await flush() }
        if chunk.readableBytes >= Self.writeSize {
            try await write(chunk)  // large enough to go as it is, without a copy
            return
        }
        // Gathered in a buffer of fixed capacity (a buffer grown by writes doubles).
        if pending.capacity < Self.writeSize { pending = ByteBufferAllocator().buffer(capacity: Self.writeSize) }
        var chunk = chunk
        pending.writeBuffer(&chunk)
    }

    /// The part as a request body: signed with its SHA-256, read from the file for each attempt.
    mutating func payload() async throws -> S3Client.Payload {
        try await flush()
        let (file, path, size) = (file, path, size)
        return .replayable(length: size, sha256Hex: hasher.finalize().hex) {
            .stream(FileChunks(file: file, path: path, size: size, chunkSize: Self.writeSize), length: .known(size))
        }
    }

    /// Empties the spool for the next part.
    mutating func reset() async throws {
        let (fd, path) = (file.fd, path)
        try await NIOThreadPool.singleton.runIfActive { try POSIXFile.truncate(fd, to: 0, path: path) }
        size = 0
        written = 0
        pending = ByteBuffer()
        hasher = DigestHasher(.sha256)
    }

    private mutating func flush() async throws {
        guard pending.readableBytes > 0 else { return }
        try await write(pending)
        pending.clear()
    }

    private mutating func write(_ bytes: ByteBuffer) async throws {
        let (fd, path, offset) = (file.fd, path, written)
        try await NIOThreadPool.singleton.runIfActive { try POSIXFile.write(fd, bytes, at: offset, path: path) }
        written += Int64(bytes.readableBytes)
    }
}
