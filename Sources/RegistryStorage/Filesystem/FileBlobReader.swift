import Glibc
import NIOCore
import NIOPosix

/// A file descriptor closed when the last reference goes.
final class OpenFile: Sendable {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { POSIXFile.close(fd) }
}

/// A blob range whose first chunk is already read.
struct FileBlobReader: BlobReader {
    let file: OpenFile?
    let path: String
    let first: ByteBuffer
    let range: Range<Int64>
    let chunkSize: Int
    let pool: NIOThreadPool

    func stream(into consume: (ByteBuffer) async throws -> Void) async throws {
        var chunk = first
        var offset = range.lowerBound
        while true {
            let consumed = chunk.readableBytes
            if consumed > 0 {
                offset += Int64(consumed)
                try await consume(chunk)
            }
            guard offset < range.upperBound else { return }
            guard let file, consumed > 0 else {
                // The file is shorter than its row says.
                throw POSIXFile.Failure(call: "read", path: path, errno: EIO)
            }
            // Let go of the chunk just sent before reading the next, so that a download holds
            // one chunk at a time, not two.
            chunk = ByteBuffer()
            let start = offset
            let count = Int(min(Int64(Self.streamedChunkSize), range.upperBound - offset))
            let path = self.path
            chunk = try await pool.runIfActive { try POSIXFile.read(file.fd, count: count, at: start, path: path) }
        }
    }

    /// The size of each read after the first, when the blob is streamed through user space
    /// (behind TLS; plain HTTP sends the rest of the file with `sendfile`). Each concurrent
    /// download holds one such chunk until the connection has taken it. Measured with
    /// `bench/run.sh`'s HTTPS run, peak RSS (set by eight parallel 64 MiB downloads) and the
    /// 1 GiB download against Distribution: 1 MiB reads holding two chunks at a time 72.3 MiB
    /// and 1.72x; one chunk at a time of 1 MiB 66.2 MiB and 1.96x, of 512 KiB 62.7 MiB and
    /// 1.84x, of 256 KiB 61.8 MiB and 1.18x (four times the trips to the disk's threads).
    static let streamedChunkSize = 512 << 10
}

extension FileBlobReader: FileBackedBlobReader {
    var leadingBytes: ByteBuffer { first }

    var remainingFile: (descriptor: Int32, range: Range<Int64>)? {
        let rest = range.lowerBound + Int64(first.readableBytes)..<range.upperBound
        // A first read shorter than asked for means the file is shorter than its row says:
        // left to `stream`, which reports it, rather than to the kernel, which would send
        // nothing more.
        guard let file, !rest.isEmpty, first.readableBytes == min(chunkSize, range.count) else { return nil }
        return (file.fd, rest)
    }
}
