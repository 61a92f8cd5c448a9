import Foundation
import Glibc
import RegistryCore

extension FilesystemBlobStore: BlobFileImporting {
    /// Hard-links the file into the store when it is on the same file system (`EXDEV`
    /// otherwise), then makes the link durable as an upload's commit does (``install(_:at:)``). Copies across file systems.
    public func importFile(at path: String, as digest: Digest) async throws -> Bool {
        let destination = self.path(of: digest)
        let staging = uploadPath("import-" + UUIDString.make())
        let linked = try await threadPool.runIfActive { () -> Bool in
            if try Self.syncIfPresent(destination) { return true }
            guard try Self.hardLink(path, to: staging) else { return false }
            do {
                try Self.install(staging, at: destination)
            } catch {
                try? POSIXFile.remove(staging)
                throw error
            }
            return true
        }
        if !linked {
            try await importFileByCopy(at: path, as: digest, size: try POSIXFile.size(path) ?? 0)
        }
        return linked
    }

    /// Hard-links `source` to `staging`; false when the file system will not (another file
    /// system, no permission, too many links), so the caller copies instead.
    static func hardLink(_ source: String, to staging: String) throws -> Bool {
        guard Glibc.link(source, staging) == 0 else {
            let error = errno
            if error == EXDEV || error == EPERM || error == EMLINK { return false }
            throw POSIXFile.Failure(call: "link", path: source, errno: error)
        }
        return true
    }
}
