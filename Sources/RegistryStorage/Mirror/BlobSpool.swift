import Foundation
import Glibc
import NIOCore
import NIOPosix
import RegistryCore
import Synchronization

/// A blob arriving from an upstream registry, written to a file on this server's disk and
/// readable by any number of clients while it grows.
///
/// A pull-through cache must answer the first client while the download is still running,
/// and answer every other client asking for the same blob meanwhile from the same download.
/// Holding the bytes in memory would make memory grow with the blob and with the slowest
/// reader; the spool file keeps memory flat: the writer appends at its pace, each reader
/// follows with its own file descriptor at its own pace, and waits only when it has caught
/// up. Once the download is verified the bytes are committed to the blob store like an
/// upload, and the spool file is removed (readers still holding it open finish normally).
public final class BlobSpool: Sendable {
    public let path: String
    private let file: OpenFile
    private let pool: NIOThreadPool
    private let state = Mutex(State())

    private struct State {
        var written: Int64 = 0
        var outcome: Result<Void, any Error>?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Creates an empty spool file in `directory`.
    public init(directory: String, pool: NIOThreadPool = .singleton) throws {
        try POSIXFile.makeDirectories(directory)
        path = "\(directory)/\(UUID().uuidString.lowercased())"
        file = OpenFile(try POSIXFile.open(path, O_RDWR | O_CREAT | O_EXCL, mode: 0o600))
        self.pool = pool
    }

    /// Bytes written so far.
    public var written: Int64 { state.withLock { $0.written } }

    /// Appends a chunk and wakes the readers waiting for it.
    public func append(_ chunk: ByteBuffer) async throws {
        let offset = written
        let (fd, path) = (file.fd, self.path)
        try await pool.runIfActive { try POSIXFile.write(fd, chunk, at: offset, path: path) }
        let waiters = state.withLock { state in
            state.written += Int64(chunk.readableBytes)
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Ends the spool: every byte is written (`.success`), or the download failed and readers
    /// must stop with `error` rather than serve bytes that were never verified.
    public func finish(_ outcome: Result<Void, any Error>) {
        let waiters = state.withLock { state in
            state.outcome = outcome
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Removes the file; readers that opened it keep their descriptors.
    public func remove() {
        _ = unlink(path)
    }

    /// A reader of `range`, following the download as it grows. The range must lie within
    /// the blob's announced size.
    public func reader(range: Range<Int64>) throws -> any BlobReader {
        SpoolReader(spool: self, file: OpenFile(try POSIXFile.open(path, O_RDONLY)), range: range)
    }

    /// Waits until more than `offset` bytes are written or the spool ends; returns how many
    /// are written, or throws the download's failure.
    fileprivate func available(after offset: Int64) async throws -> Int64 {
        while true {
            if let answer = peek(after: offset) { return try answer.get() }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.written > offset || state.outcome != nil { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func peek(after offset: Int64) -> Result<Int64, any Error>? {
        state.withLock { state in
            if state.written > offset { return .success(state.written) }
            switch state.outcome {
            case .failure(let error): return .failure(error)
            case .success: return .success(state.written)
            case nil: return nil
            }
        }
    }

    fileprivate func read(_ reader: OpenFile, count: Int, at offset: Int64) async throws -> ByteBuffer {
        let path = self.path
        return try await pool.runIfActive { try POSIXFile.read(reader.fd, count: count, at: offset, path: path) }
    }

    /// Chunks handed to readers.
    static let chunkSize = 1 << 20
}

/// The spool is cut short: the download ended before the range a reader wanted.
public struct SpoolTruncated: Error, Sendable {}

/// One client's view of a spool.
private struct SpoolReader: BlobReader {
    let spool: BlobSpool
    let file: OpenFile
    let range: Range<Int64>

    func stream(into consume: (ByteBuffer) async throws -> Void) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let written = try await spool.available(after: offset)
            guard written > offset else { throw SpoolTruncated() }
            let count = Int(min(Int64(BlobSpool.chunkSize), min(written, range.upperBound) - offset))
            let chunk = try await spool.read(file, count: count, at: offset)
            guard chunk.readableBytes > 0 else { throw SpoolTruncated() }
            offset += Int64(chunk.readableBytes)
            try await consume(chunk)
        }
    }
}

extension SpoolReader: GrowingFileBlobReader {
    func sendWritten(_ send: (Int32, Range<Int64>) async throws -> Void) async throws {
        defer { withExtendedLifetime(file) {} }
        var offset = range.lowerBound
        while offset < range.upperBound {
            let written = try await spool.available(after: offset)
            guard written > offset else { throw SpoolTruncated() }
            let end = min(written, range.upperBound)
            try await send(file.fd, offset..<end)
            offset = end
        }
    }
}
