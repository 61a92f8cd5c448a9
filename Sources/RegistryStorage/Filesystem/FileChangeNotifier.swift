import Glibc

/// Change notification between processes on one host: a file under the storage root that
/// ``announce()`` replaces (a new inode each time). Reading it is one `stat`, cheap enough
/// for every cache hit.
public struct FileChangeNotifier: ChangeNotifier {
    public let path: String

    public init(root: String) {
        path = root + "/metadata-changed"
    }

    public func generation() -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt64(info.st_ino) &* 1_000_003 &+ UInt64(info.st_mtim.tv_nsec)
    }

    public func announce() async throws {
        let temporary = path + ".tmp"
        let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        POSIXFile.close(fd)
        try POSIXFile.rename(temporary, path)
    }
}
