import Foundation
import Glibc
import RegistryCore

/// Appends audit events to a JSON-lines file, rotating it by size, and makes each batch
/// durable with one fsync.
///
/// Lives in RegistryStorage because it is file I/O that both registryd (requests) and
/// registryctl (gc runs) need, and both already depend on this module; the event value itself
/// is RegistryCore's ``AuditEvent``. Both processes may write at once: a lock file beside the
/// log (`<path>.lock`, never rotated) serializes batches and rotations, and a writer whose
/// file was rotated away by the other process reopens the path before writing.
///
/// Blocking: callers run it on a thread pool or in a command-line tool, never on an event loop.
/// Not for concurrent use from several threads; one writer (the audit service) owns it.
public final class AuditLogFile: @unchecked Sendable {
    public let path: String
    public let maxSize: Int64
    public let maxBackups: Int
    private var fd: Int32
    private var lockFD: Int32

    /// Opens (creating it 0600, and its folder) the log at `path`.
    public init(path: String, maxSize: Int64, maxBackups: Int) throws {
        self.path = path
        self.maxSize = maxSize
        self.maxBackups = max(1, maxBackups)
        try POSIXFile.makeDirectories(POSIXFile.dirname(of: path))
        lockFD = try POSIXFile.open(path + ".lock", O_RDWR | O_CREAT, mode: 0o600)
        do {
            fd = try Self.openLog(path)
        } catch {
            POSIXFile.close(lockFD)
            throw error
        }
    }

    public convenience init(_ settings: RegistryConfiguration.Audit) throws {
        try self.init(path: settings.path, maxSize: settings.maxSize, maxBackups: settings.maxBackups)
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { POSIXFile.close(fd) }
        if lockFD >= 0 { POSIXFile.close(lockFD) }
        fd = -1
        lockFD = -1
    }

    /// Writes the events as lines and fsyncs once; rotates first when they would take the
    /// file past `maxSize` (a single batch larger than that still goes into one file).
    public func append(_ events: [AuditEvent]) throws {
        guard !events.isEmpty else { return }
        var bytes = Data()
        for event in events { bytes.append(try event.jsonLine()) }
        try locked {
            try reopenIfRotatedElsewhere()
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw POSIXFile.Failure(call: "fstat", path: path, errno: errno) }
            if info.st_size > 0, Int64(info.st_size) + Int64(bytes.count) > maxSize {
                try rotate()
            }
            try write(bytes)
            try POSIXFile.fsync(fd, path: path)
        }
    }

    /// `<path>.<maxBackups>` is dropped, each `<path>.<n>` becomes `<path>.<n+1>`, the current
    /// file `<path>.1`, and a new empty file takes its place.
    private func rotate() throws {
        try POSIXFile.remove("\(path).\(maxBackups)")
        if maxBackups > 1 {
            for index in stride(from: maxBackups - 1, through: 1, by: -1) {
                let from = "\(path).\(index)"
                if (try? POSIXFile.size(from)) != nil { try POSIXFile.rename(from, "\(path).\(index + 1)") }
            }
        }
        try POSIXFile.rename(path, "\(path).1")
        POSIXFile.close(fd)
        fd = try Self.openLog(path)
        try POSIXFile.fsyncDirectory(POSIXFile.dirname(of: path))
    }

    /// The other process may have rotated the file this one has open.
    private func reopenIfRotatedElsewhere() throws {
        var open = stat()
        var named = stat()
        let exists = stat(path, &named) == 0
        guard fstat(fd, &open) == 0 else { throw POSIXFile.Failure(call: "fstat", path: path, errno: errno) }
        if !exists || named.st_ino != open.st_ino || named.st_dev != open.st_dev {
            POSIXFile.close(fd)
            fd = try Self.openLog(path)
        }
    }

    private func write(_ bytes: Data) throws {
        try bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var written = 0
            while written < buffer.count {
                let n = Glibc.write(fd, base + written, buffer.count - written)
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw POSIXFile.Failure(call: "write", path: path, errno: errno) }
                written += n
            }
        }
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw POSIXFile.Failure(call: "flock", path: path + ".lock", errno: errno) }
        }
        defer { _ = flock(lockFD, LOCK_UN) }
        return try body()
    }

    private static func openLog(_ path: String) throws -> Int32 {
        try POSIXFile.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o600)
    }
}
