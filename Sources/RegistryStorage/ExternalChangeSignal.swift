import Glibc

/// Tells a running registryd that another process (`registryctl gc`, `fsck --repair`) changed
/// the metadata, so that its caches start over.
///
/// The signal is a file under the storage root that the writer replaces (a new inode each
/// time); reading it is one `stat`, cheap enough for every cache hit.
public struct ExternalChangeSignal: Sendable {
    public let path: String

    public init(root: String) {
        path = root + "/metadata-changed"
    }

    /// The current value: changes whenever ``announce()`` runs.
    public func current() -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt64(info.st_ino) &* 1_000_003 &+ UInt64(info.st_mtim.tv_nsec)
    }

    /// Replaces the file. Call after committing a change that running servers must see.
    public func announce() throws {
        let temporary = path + ".tmp"
        let fd = try POSIXFile.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        POSIXFile.close(fd)
        try POSIXFile.rename(temporary, path)
    }
}
