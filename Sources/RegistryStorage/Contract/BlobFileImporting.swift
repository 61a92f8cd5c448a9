import RegistryCore

/// A blob store that can take in a file already on this machine as a blob (for
/// `registryctl import`). The caller has verified the file's digest and holds a reservation of
/// it (``MetadataStore/reserveBlob(_:)``); the file is only read, never moved or changed.
public protocol BlobFileImporting: Sendable {
    /// Makes the file at `path` the blob `digest`, durably. Returns true when it was
    /// hard-linked (no second copy of the bytes), false when it was copied.
    func importFile(at path: String, as digest: Digest) async throws -> Bool
}

extension BlobStore {
    /// Any store: the file streamed through an upload's staging and committed.
    public func importFileByCopy(at path: String, as digest: Digest, size: Int64) async throws {
        let id = "import-" + UUIDString.make()
        let staged = try await beginUpload(id: id)
        do {
            let body = try FileChunks(path: path, size: size)
            let filled = try await append(body, to: staged, expectedLength: size)
            try await commitUpload(filled, as: digest)
        } catch {
            try? await discardUpload(id: id)
            throw error
        }
        try? await discardUpload(id: id)
    }
}
