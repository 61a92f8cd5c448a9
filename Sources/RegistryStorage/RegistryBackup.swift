import Foundation
import Glibc
import RegistryCore

/// A consistent copy of a registry taken while it serves: the database through SQLite's
/// online backup API, plus the blobs that copy records, laid out as a storage root
/// (`registry.db`, `blobs/sha256/..`), so restoring is pointing `rootdirectory` at a copy of it.
///
/// Blobs are hard-linked while the database's write lock is held (see
/// ``SQLiteMetadataStore/backup(to:whileLocked:)``): straight into the backup when it is on
/// the same file system as the storage root, else into a staging folder under the root, which
/// is then copied out after the lock is released. Everything is flushed to disk before it returns.
public struct RegistryBackup {
    public struct Summary: Sendable, Encodable {
        public var blobs: Int
        public var bytes: Int64
        /// True when blobs were hard-linked into the backup, false when copied.
        public var linked: Bool
        public var seconds: Double
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    let blobs: FilesystemBlobStore
    let metadata: SQLiteMetadataStore

    public init(blobs: FilesystemBlobStore, metadata: SQLiteMetadataStore) {
        self.blobs = blobs
        self.metadata = metadata
    }

    /// Writes the backup into `destination`, which must be missing or an empty folder.
    public func run(to destination: String) throws -> Summary {
        let started = ContinuousClock.now
        try Self.prepare(destination)
        let linked = try Self.device(of: destination) == Self.device(of: blobs.root)
        let staging = linked ? destination : "\(blobs.root)/backup-staging-\(UUID().uuidString)"
        defer { if !linked { try? FileManager.default.removeItem(atPath: staging) } }
        var bytes: Int64 = 0
        var digests: [Digest] = []
        try metadata.backup(to: destination + "/registry.db") { recorded in
            digests = recorded
            for digest in recorded {
                bytes += try link(digest, into: staging)
            }
        }
        if !linked {
            for digest in digests {
                let target = Self.blobPath(digest, under: destination)
                try POSIXFile.makeDirectories(POSIXFile.dirname(of: target))
                try FileManager.default.copyItem(atPath: Self.blobPath(digest, under: staging), toPath: target)
            }
        }
        try POSIXFile.syncFileSystem(containing: destination)
        try POSIXFile.fsyncDirectory(destination)
        return Summary(
            blobs: digests.count, bytes: bytes, linked: linked, seconds: (ContinuousClock.now - started).inSeconds)
    }

    /// Hard-links one blob file under `folder`; returns its size.
    private func link(_ digest: Digest, into folder: String) throws -> Int64 {
        let source = blobs.path(of: digest)
        let target = Self.blobPath(digest, under: folder)
        try POSIXFile.makeDirectories(POSIXFile.dirname(of: target))
        guard Glibc.link(source, target) == 0 else {
            throw POSIXFile.Failure(call: "link", path: source, errno: errno)
        }
        return try POSIXFile.size(target) ?? 0
    }

    private static func blobPath(_ digest: Digest, under folder: String) -> String {
        "\(folder)/\(FilesystemBlobStore.relativePath(of: digest))"
    }

    private static func prepare(_ destination: String) throws {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: destination), !entries.isEmpty {
            throw Refusal(description: "\(destination) is not empty; a backup needs a new or empty folder")
        }
        try POSIXFile.makeDirectories(destination)
    }

    private static func device(of path: String) throws -> UInt {
        var info = stat()
        guard stat(path, &info) == 0 else { throw POSIXFile.Failure(call: "stat", path: path, errno: errno) }
        return UInt(info.st_dev)
    }
}
