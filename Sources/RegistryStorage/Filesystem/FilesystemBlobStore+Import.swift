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
            guard Glibc.link(path, staging) == 0 else {
                let error = errno
                if error == EXDEV || error == EPERM || error == EMLINK { return false }
                throw POSIXFile.Failure(call: "link", path: path, errno: error)
            }
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
}
