import Foundation
import Glibc
import RegistryCore

extension FilesystemBlobStore: BlobExporting {
    /// Hard-links each blob file into `folder` when it is on the same file system as the
    /// storage root, else copies it.
    public func export(_ digests: [Digest], into folder: String) async throws -> (bytes: Int64, linked: Bool) {
        let root = self.root
        return try await threadPool.runIfActive {
            let linked = try Self.device(of: folder) == Self.device(of: root)
            var bytes: Int64 = 0
            for digest in digests {
                let source = "\(root)/\(Self.relativePath(of: digest))"
                let target = "\(folder)/\(Self.relativePath(of: digest))"
                try POSIXFile.makeDirectories(POSIXFile.dirname(of: target))
                if linked {
                    guard Glibc.link(source, target) == 0 else {
                        throw POSIXFile.Failure(call: "link", path: source, errno: errno)
                    }
                } else {
                    try FileManager.default.copyItem(atPath: source, toPath: target)
                }
                bytes += try POSIXFile.size(target) ?? 0
            }
            return (bytes, linked)
        }
    }

    private static func device(of path: String) throws -> UInt {
        var info = stat()
        guard stat(path, &info) == 0 else { throw POSIXFile.Failure(call: "stat", path: path, errno: errno) }
        return UInt(info.st_dev)
    }
}
