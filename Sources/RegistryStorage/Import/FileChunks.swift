import Foundation
import Glibc
import NIOCore
import NIOPosix

/// A file read front to back in chunks (1 MiB unless told) on the thread pool, as an upload body.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let file: OpenFile
    let path: String
    let size: Int64
    var chunkSize = 1 << 20

    public init(path: String, size: Int64) throws {
        file = OpenFile(try POSIXFile.open(path, O_RDONLY))
        self.path = path
        self.size = size
    }

    /// The first `size` bytes of a file already open (`path` names it in errors), read
    /// `chunkSize` bytes at a time.
    init(file: OpenFile, path: String, size: Int64, chunkSize: Int) {
        self.file = file
        self.path = path
        self.size = size
        self.chunkSize = chunkSize
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: FileChunks
        var offset: Int64 = 0

        public mutating func next() async throws -> ByteBuffer? {
            guard offset < chunks.size else { return nil }
            let count = Int(Swift.min(Int64(chunks.chunkSize), chunks.size - offset))
            let (fd, start, path) = (chunks.file.fd, offset, chunks.path)
            let chunk = try await NIOThreadPool.singleton.runIfActive {
                try POSIXFile.read(fd, count: count, at: start, path: path)
            }
            guard chunk.readableBytes > 0 else { throw POSIXFile.Failure(call: "read", path: path, errno: EIO) }
            offset += Int64(chunk.readableBytes)
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}

enum UUIDString {
    static func make() -> String { UUID().uuidString.lowercased() }
}
