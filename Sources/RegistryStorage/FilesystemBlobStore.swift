import Dispatch
import Foundation
import Glibc
import Synchronization
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
        "\(root)/\(Self.relativePath(of: digest))"
    }

    /// Where a blob's file lives relative to the storage root.
    static func relativePath(of digest: Digest) -> String {
        "blobs/\(digest.algorithm.rawValue)/\(digest.hex.prefix(2))/\(digest.hex)"
    }

    func uploadPath(_ id: String) -> String { "\(root)/uploads/\(id)" }

    public func size(of digest: Digest) async throws -> Int64? {
        let path = path(of: digest)
        return try await threadPool.runIfActive { try POSIXFile.size(path) }
    }

    public func open(_ digest: Digest, range: Range<Int64>) async throws -> (any BlobReader)? {
        let path = path(of: digest)
        let chunkSize = self.chunkSize
        // One hop opens the file and reads the first chunk; a range that fits in it is closed
        // in the same hop, so a small blob costs a single trip to the thread pool.
        return try await threadPool.runIfActive { () -> FileBlobReader? in
            let fd: Int32
            do {
                fd = try POSIXFile.open(path, O_RDONLY)
            } catch let failure as POSIXFile.Failure where failure.errno == ENOENT {
                return nil
            }
            do {
                let count = Int(min(Int64(chunkSize), Int64(range.count)))
                let chunk =
                    range.isEmpty
                    ? ByteBuffer() : try POSIXFile.read(fd, count: count, at: range.lowerBound, path: path)
                if Int64(chunk.readableBytes) >= Int64(range.count) {
                    POSIXFile.close(fd)
                    return FileBlobReader(file: nil, path: path, first: chunk, range: range, chunkSize: chunkSize, pool: threadPool)
                }
                return FileBlobReader(
                    file: OpenFile(fd), path: path, first: chunk, range: range, chunkSize: chunkSize, pool: threadPool)
            } catch {
                POSIXFile.close(fd)
                throw error
            }
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

    public func syncUpload(id: String) async throws {
        let path = uploadPath(id)
        try await threadPool.runIfActive {
            let fd = try POSIXFile.open(path, O_RDONLY)
            defer { POSIXFile.close(fd) }
            try POSIXFile.fsync(fd, path: path)
        }
    }

    public func placeUpload(id: String, as digest: Digest) throws -> Bool {
        let destination = path(of: digest)
        if try POSIXFile.size(destination) != nil {
            return false  // content-addressed: the stored copy is the same bytes
        }
        let folder = POSIXFile.dirname(of: destination)
        try POSIXFile.makeDirectories(folder)
        try POSIXFile.rename(uploadPath(id), destination)
        try POSIXFile.fsyncDirectory(folder)
        return true
    }

    /// Unlinks in parallel (a file system mounted with `discard` spends most of an unlink
    /// waiting, not computing), then makes all of them durable with one `syncfs`.
    public func deleteBlobFiles(_ digests: [Digest]) throws {
        let paths = digests.map(path(of:))
        let failures = Mutex<[any Error]>([])
        let lanes = min(Self.deletionLanes, paths.count)
        // Threads of our own: GCD's concurrentPerform runs no wider than the core count,
        // and these threads mostly wait on the disk.
        let done = DispatchGroup()
        for lane in 0..<lanes {
            done.enter()
            Thread.detachNewThread {
                for index in stride(from: lane, to: paths.count, by: lanes) {
                    do {
                        try POSIXFile.remove(paths[index])
                    } catch {
                        failures.withLock { $0.append(error) }
                    }
                }
                done.leave()
            }
        }
        done.wait()
        if let failure = failures.withLock({ $0.first }) { throw failure }
        try POSIXFile.syncFileSystem(containing: root + "/blobs")
    }

    static let deletionLanes = 8

    public func removeUpload(id: String) async throws {
        let path = uploadPath(id)
        try await threadPool.runIfActive { try POSIXFile.remove(path) }
    }

    public func storedBlobs() async throws -> [Digest] {
        let root = self.root
        return try await threadPool.runIfActive {
            var digests: [Digest] = []
            let manager = FileManager.default
            for algorithm in DigestAlgorithm.allCases {
                let folder = "\(root)/blobs/\(algorithm.rawValue)"
                guard let prefixes = try? manager.contentsOfDirectory(atPath: folder) else { continue }
                for prefix in prefixes {
                    for name in try manager.contentsOfDirectory(atPath: "\(folder)/\(prefix)") {
                        if let digest = try? Digest(algorithm: algorithm, hex: name), name.hasPrefix(prefix) {
                            digests.append(digest)
                        }
                    }
                }
            }
            return digests
        }
    }

    public func quarantine(_ digest: Digest) async throws {
        let source = path(of: digest)
        let folder = "\(root)/quarantine"
        let destination = "\(folder)/\(digest.algorithm.rawValue)-\(digest.hex)-\(Int(Date().timeIntervalSince1970))"
        try await threadPool.runIfActive {
            try POSIXFile.makeDirectories(folder)
            try POSIXFile.rename(source, destination)
            try POSIXFile.fsyncDirectory(folder)
            try POSIXFile.fsyncDirectory(POSIXFile.dirname(of: source))
        }
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
