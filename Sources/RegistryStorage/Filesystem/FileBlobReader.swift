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
            if chunk.readableBytes > 0 {
                offset += Int64(chunk.readableBytes)
                try await consume(chunk)
            }
            guard offset < range.upperBound else { return }
            guard let file, chunk.readableBytes > 0 else {
                // The file is shorter than its row says.
                throw POSIXFile.Failure(call: "read", path: path, errno: EIO)
            }
            let start = offset
            let count = Int(min(Int64(chunkSize), range.upperBound - offset))
            let path = self.path
            chunk = try await pool.runIfActive { try POSIXFile.read(file.fd, count: count, at: start, path: path) }
        }
    }
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
