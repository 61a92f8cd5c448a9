import Foundation
import Glibc
import NIOCore
import NIOPosix
import RegistryCore

/// Blobs as files under `<root>/blobs/<algorithm>/<first two hex>/<hex>`, uploads staged
/// under `<root>/uploads/<id>`. Blocking calls run on a thread pool.
public struct FilesystemBlobStore: BlobStore {
    public let root: String
    private let threadPool: NIOThreadPool
    /// Bytes gathered before one write call, and the size of one read.
    private let chunkSize = 1 << 20

    public init(root: String, threadPool: NIOThreadPool = .singleton) throws {
        self.root = root
        self.threadPool = threadPool
        try POSIXFile.makeDirectories(root + "/blobs")
        try POSIXFile.makeDirectories(root + "/uploads")
    }

    public func path(of digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.hex.prefix(2))/\(digest.hex)"
    }

    func uploadPath(_ id: String) -> String { "\(root)/uploads/\(id)" }

    public func size(of digest: Digest) async throws -> Int64? {
        let path = path(of: digest)
        return try await threadPool.runIfActive { try POSIXFile.size(path) }
    }

    public func read(
        _ digest: Digest, range: Range<Int64>, into consume: (ByteBuffer) async throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
        let path = path(of: digest)
        let chunkSize = Int64(self.chunkSize)
        // One hop opens the file and reads the first chunk; a blob that fits in it is closed
        // in the same hop, so a small blob costs a single trip to the thread pool.
        let first = try await threadPool.runIfActive { () -> (fd: Int32?, chunk: ByteBuffer) in
            let fd = try POSIXFile.open(path, O_RDONLY)
            do {
                let count = Int(min(chunkSize, Int64(range.count)))
                let chunk = try POSIXFile.read(fd, count: count, at: range.lowerBound, path: path)
                if Int64(chunk.readableBytes) >= Int64(range.count) {
                    POSIXFile.close(fd)
                    return (nil, chunk)
                }
                return (fd, chunk)
            } catch {
                POSIXFile.close(fd)
                throw error
            }
        }
        guard let fd = first.fd else {
            try await consume(first.chunk)
            return
        }
        defer { POSIXFile.close(fd) }
        var chunk = first.chunk
        var offset = range.lowerBound
        while true {
            guard chunk.readableBytes > 0 else {
                throw POSIXFile.Failure(call: "read", path: path, errno: EIO)  // the file is shorter than its row says
            }
            offset += Int64(chunk.readableBytes)
            try await consume(chunk)
            guard offset < range.upperBound else { return }
            let start = offset
            let count = Int(min(chunkSize, range.upperBound - offset))
            chunk = try await threadPool.runIfActive { try POSIXFile.read(fd, count: count, at: start, path: path) }
        }
    }

    public func delete(_ digest: Digest) async throws {
        let path = path(of: digest)
        try await threadPool.runIfActive {
            try POSIXFile.remove(path)
            try POSIXFile.fsyncDirectory(POSIXFile.dirname(of: path))
        }
    }

    public func createUpload(id: String) async throws {
        let path = uploadPath(id)
        try await threadPool.runIfActive {
            let fd = try POSIXFile.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            POSIXFile.close(fd)
        }
    }

    public func uploadSize(id: String) async throws -> Int64? {
        let path = uploadPath(id)
        return try await threadPool.runIfActive { try POSIXFile.size(path) }
    }

    public func appendToUpload<Body: AsyncSequence & Sendable>(
        id: String, at offset: Int64, from body: Body, hasher: inout DigestHasher, limit: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        let path = uploadPath(id)
        let fd = try await threadPool.runIfActive { try POSIXFile.open(path, O_WRONLY) }
        defer { POSIXFile.close(fd) }
        var working = hasher
        var written: Int64 = 0
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        do {
            for try await buffer in body {
                written += Int64(buffer.readableBytes)
                if let limit, written > limit {
                    throw RegistryError(.sizeInvalid, "body is larger than its Content-Length")
                }
                buffer.withUnsafeReadableBytes { working.update(bufferPointer: $0) }
                pending.append(buffer)
                pendingBytes += buffer.readableBytes
                if pendingBytes >= chunkSize {
                    try await flush(pending, fd: fd, at: offset + written - Int64(pendingBytes), path: path)
                    pending.removeAll(keepingCapacity: true)
                    pendingBytes = 0
                }
            }
            if pendingBytes > 0 {
                try await flush(pending, fd: fd, at: offset + written - Int64(pendingBytes), path: path)
            }
        } catch {
            // Leave the staging file as it was before this request.
            try? await threadPool.runIfActive { try POSIXFile.truncate(fd, to: offset, path: path) }
            throw error
        }
        hasher = working
        return written
    }

    private func flush(_ buffers: [ByteBuffer], fd: Int32, at offset: Int64, path: String) async throws {
        try await threadPool.runIfActive {
            var position = offset
            for buffer in buffers {
                try POSIXFile.write(fd, buffer, at: position, path: path)
                position += Int64(buffer.readableBytes)
            }
        }
    }

    public func hashUpload(id: String, algorithm: DigestAlgorithm) async throws -> (hasher: DigestHasher, size: Int64) {
        let path = uploadPath(id)
        let fd = try await threadPool.runIfActive { try POSIXFile.open(path, O_RDONLY) }
        defer { POSIXFile.close(fd) }
        var hasher = DigestHasher(algorithm)
        var offset: Int64 = 0
        let chunkSize = self.chunkSize
        while true {
            let start = offset
            let chunk = try await threadPool.runIfActive { try POSIXFile.read(fd, count: chunkSize, at: start, path: path) }
            if chunk.readableBytes == 0 { break }
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            offset += Int64(chunk.readableBytes)
        }
        return (hasher, offset)
    }

    public func commitUpload(id: String, as digest: Digest) async throws {
        let source = uploadPath(id)
        let destination = path(of: digest)
        try await threadPool.runIfActive {
            let fd = try POSIXFile.open(source, O_RDONLY)
            defer { POSIXFile.close(fd) }
            if try POSIXFile.size(destination) != nil {
                // Content-addressed: the stored copy is the same bytes.
                try POSIXFile.remove(source)
                return
            }
            try POSIXFile.fsync(fd, path: source)
            let folder = POSIXFile.dirname(of: destination)
            try POSIXFile.makeDirectories(folder)
            // Two uploads of the same blob may race here; either rename leaves the same bytes.
            try POSIXFile.rename(source, destination)
            try POSIXFile.fsyncDirectory(folder)
        }
    }

    public func removeUpload(id: String) async throws {
        let path = uploadPath(id)
        try await threadPool.runIfActive { try POSIXFile.remove(path) }
    }

    public func uploadIDs() async throws -> [String] {
        let folder = "\(root)/uploads"
        return try await threadPool.runIfActive {
            try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        }
    }

    public func checkWritable() async throws {
        let path = "\(root)/uploads/.healthcheck"
        try await threadPool.runIfActive {
            let fd = try POSIXFile.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
            defer { POSIXFile.close(fd) }
            try POSIXFile.write(fd, ByteBuffer(string: "ok"), at: 0, path: path)
            try POSIXFile.fsync(fd, path: path)
            try POSIXFile.remove(path)
        }
    }
}
