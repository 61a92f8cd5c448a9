import Foundation
import NIOCore
import RegistryCore

/// One blob of the source store, read once, hashed on the way, and handed over as a local
/// file that ``BlobUploads/storeFile(at:as:size:in:)`` can take in: the store's own file
/// when the source is a directory (so that one file system shares it by a hard link), or a
/// spool file the bytes are streamed into. Memory stays flat: a chunk at a time.
struct SourceBlob: Sendable {
    let blobs: any BlobStore
    /// Where spool files go (removed after use).
    let spoolDirectory: String

    /// A verified file holding the blob; `remove` deletes it when it is a spool file.
    struct Verified: Sendable {
        var path: String
        var spool: BlobSpool?

        func remove() { spool?.remove() }
    }

    /// Why a blob could not be read as recorded.
    struct Refusal: Error, Sendable {
        /// `missing blob`, `corrupt blob` or `unreadable blob`.
        var kind: String
        var detail: String
    }

    /// Reads and hashes the blob. With `keep`, returns a file with its bytes; otherwise
    /// (a dry run) only checks it.
    func verify(_ digest: Digest, size: Int64, keep: Bool) async throws(Refusal) -> Verified? {
        do {
            if let directory = blobs as? FilesystemBlobStore {
                let path = directory.path(of: digest)
                guard let actual = try POSIXFile.size(path) else { throw Refusal(kind: "missing blob", detail: "no file") }
                let hashed = try await FileChunks.digest(of: path, size: actual, algorithm: digest.algorithm)
                try check(actual: hashed, expected: digest, recorded: size)
                return keep ? Verified(path: path, spool: nil) : nil
            }
            guard let reader = try await blobs.open(digest, range: 0..<size) else {
                throw Refusal(kind: "missing blob", detail: "the source store has no bytes for it")
            }
            let spool = keep ? try BlobSpool(directory: spoolDirectory) : nil
            do {
                var hasher = DigestHasher(digest.algorithm)
                var total: Int64 = 0
                try await reader.stream { chunk in
                    chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                    total += Int64(chunk.readableBytes)
                    try await spool?.append(chunk)
                }
                try check(actual: (hasher.finalize(), total), expected: digest, recorded: size)
                spool?.finish(.success(()))
                return spool.map { Verified(path: $0.path, spool: $0) }
            } catch {
                spool?.finish(.failure(error))
                spool?.remove()
                throw error
            }
        } catch let refusal as Refusal {
            throw refusal
        } catch {
            throw Refusal(kind: "unreadable blob", detail: "\(error)")
        }
    }

    private func check(actual: (digest: Digest, size: Int64), expected: Digest, recorded: Int64) throws {
        guard actual.size == recorded else {
            throw Refusal(kind: "corrupt blob", detail: "\(actual.size) bytes where \(recorded) are recorded")
        }
        guard actual.digest == expected else {
            throw Refusal(kind: "corrupt blob", detail: "the bytes hash to \(actual.digest)")
        }
    }
}
