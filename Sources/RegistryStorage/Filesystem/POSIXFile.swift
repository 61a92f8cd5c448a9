import CSystemExtras
import Glibc
import NIOCore
import RegistryCore

/// Thin blocking wrappers over the file system calls the blob store needs.
/// Callers run them on a thread pool, never on an event loop.
enum POSIXFile {
    struct Failure: Error, CustomStringConvertible {
        let call: String
        let path: String
        let errno: Int32

        var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
    }

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw Failure(call: "open", path: path, errno: errno) }
        return fd
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Writes the whole buffer at `offset`.
    static func write(_ fd: Int32, _ buffer: ByteBuffer, at offset: Int64, path: String) throws {
        var written = 0
        try buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while written < bytes.count {
                let n = retrying {
                    pwrite(fd, base + written, bytes.count - written, off_t(offset) + off_t(written))
                }
                guard n >= 0 else { throw Failure(call: "write", path: path, errno: errno) }
                written += n
            }
        }
    }

    /// Reads up to `count` bytes at `offset` into a new buffer; short only at end of file.
    static func read(_ fd: Int32, count: Int, at offset: Int64, path: String) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var total = 0
        while total < count {
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - total) { bytes in
                guard let base = bytes.baseAddress else { return 0 }
                let n = retrying { pread(fd, base, count - total, off_t(offset) + off_t(total)) }
                guard n >= 0 else { throw Failure(call: "read", path: path, errno: errno) }
                return n
            }
            if n == 0 { break }
            total += n
        }
        return buffer
    }

    static func size(_ path: String) throws -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw Failure(call: "stat", path: path, errno: errno)
        }
        return Int64(info.st_size)
    }

    static func truncate(_ fd: Int32, to size: Int64, path: String) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Failure(call: "ftruncate", path: path, errno: errno) }
    }

    /// Starts writeback of `range` without waiting for it (`sync_file_range`), so that the
    /// fsync that makes the file durable finds those pages written or on their way. Best
    /// effort: a failure here shows again at that fsync, which is what reports it.
    static func startWriteback(_ fd: Int32, range: Range<Int64>) {
        _ = system_extras_start_writeback(fd, range.lowerBound, range.upperBound - range.lowerBound)
    }

    static func fsync(_ fd: Int32, path: String) throws {
        guard Glibc.fsync(fd) == 0 else { throw Failure(call: "fsync", path: path, errno: errno) }
    }

    /// Makes a folder's entries (a rename, a new file) durable.
    static func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// Flushes the whole file system that holds `path` (one call for many changes).
    static func syncFileSystem(containing path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        guard system_extras_syncfs(fd) == 0 else { throw Failure(call: "syncfs", path: path, errno: errno) }
    }

    /// Creates a folder and its missing parents, fsyncing each parent that gained an entry.
    /// With `syncParents` false the caller makes the new entries durable itself (a `syncfs`).
    static func makeDirectories(_ path: String, syncParents: Bool = true) throws {
        var info = stat()
        if stat(path, &info) == 0 { return }
        let parent = dirname(of: path)
        if parent != path { try makeDirectories(parent, syncParents: syncParents) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw Failure(call: "mkdir", path: path, errno: errno)
        }
        if syncParents { try fsyncDirectory(parent) }
    }

    static func rename(_ source: String, _ destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else {
            throw Failure(call: "rename", path: destination, errno: errno)
        }
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw Failure(call: "unlink", path: path, errno: errno)
        }
    }

    static func dirname(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }
}

extension POSIXFile.Failure: StorageFailure {
    var storageCondition: StorageCondition {
        switch errno {
        case ENOSPC, EDQUOT: .noSpace
        case EROFS: .readOnly
        default: .failed
        }
    }
}
