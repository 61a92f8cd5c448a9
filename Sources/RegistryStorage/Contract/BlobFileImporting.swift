import RegistryCore

/// A blob store that can take in a file already on this machine as a blob (for
/// `registryctl import`). The caller has verified the file's digest and holds a reservation of
/// it (``MetadataStore/reserveBlob(_:)``); the file is only read, never moved or changed.
public protocol BlobFileImporting: Sendable {
    /// Makes the file at `path` the blob `digest`, durably. Returns true when it was
    /// hard-linked (no second copy of the bytes), false when it was copied.
    func importFile(at path: String, as digest: Digest) async throws -> Bool
    /// Makes each file the blob it names, all of them durable when this returns, with one
    /// wait for the disk for the whole batch instead of one per file (the caller holds a
    /// reservation of every digest). Returns, for each file in order, whether it was
    /// hard-linked. Default: ``importFile(at:as:)`` for each.
    func importFiles(_ files: [FileToImport]) async throws -> [Bool]
}

/// A verified file on this machine and the blob it is.
public struct FileToImport: Sendable, Equatable {
    public var path: String
    public var digest: Digest
    public var size: Int64

    public init(path: String, digest: Digest, size: Int64) {
        self.path = path
        self.digest = digest
        self.size = size
    }
}

extension BlobFileImporting {
    public func importFiles(_ files: [FileToImport]) async throws -> [Bool] {
        var linked: [Bool] = []
        for file in files { linked.append(try await importFile(at: file.path, as: file.digest)) }
        return linked
    }
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
