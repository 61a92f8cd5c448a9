import Glibc
import NIOCore
import NIOPosix
import RegistryCore

/// Uploads are staged as one file per upload, `<root>/uploads/<id>`, appended to in place.
/// The file is the truth about what arrived: the state the metadata store records is checked
/// against its size and rebuilt from it when they differ (a crash between the two).
extension FilesystemBlobStore {
    public func beginUpload(id: String) async throws -> StagedUpload {
        let path = uploadPath(id)
        try await threadPool.runIfActive {
            let fd = try POSIXFile.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            POSIXFile.close(fd)
        }
        return StagedUpload(id: id)
    }

    public func reconcile(_ upload: StagedUpload) async throws -> StagedUpload {
        let path = uploadPath(upload.id)
        guard let size = try await threadPool.runIfActive({ try POSIXFile.size(path) }) else {
            throw Self.stagingMissing
        }
        if size == upload.size, upload.hasher != nil { return upload }
        return StagedUpload(id: upload.id, size: size, hasher: try await hashStagingFile(upload.id, algorithm: .sha256))
    }

    public func append<Body: AsyncSequence & Sendable>(
        _ body: Body, to upload: StagedUpload, expectedLength: Int64?
    ) async throws -> StagedUpload where Body.Element == ByteBuffer {
        let path = uploadPath(upload.id)
        let offset = upload.size
        var hasher: DigestHasher
        if let running = upload.hasher {
            hasher = running
        } else {
            hasher = try await hashStagingFile(upload.id, algorithm: .sha256)
        }
        let fd = try await threadPool.runIfActive { try POSIXFile.open(path, O_WRONLY) }
        defer { POSIXFile.close(fd) }
        var written: Int64 = 0
        // Body parts are copied into one buffer rather than kept: a part is often a slice of a
        // much larger buffer (TLS decrypts a whole read burst into one), and holding a chunk's
        // worth of slices would hold all of those. The buffer is written out before a part that
        // does not fit, so it never grows past `gatherSize`.
        var gathered = ByteBufferAllocator().buffer(capacity: gatherSize)
        var fileOffset = offset
        var writeback = offset
        /// Writes `buffer` at `fileOffset` on the thread pool and hashes it here meanwhile: the
        /// two only read the buffer, and a core hashes while another copies into the page cache.
        /// Once `writebackStep` bytes since `writeback` are written, their writeback is started
        /// in the same trip to the pool.
        func writeAndHash(_ buffer: ByteBuffer) async throws {
            let end = fileOffset + Int64(buffer.readableBytes)
            let started = end - writeback >= Self.writebackStep ? writeback..<end : nil
            let at = fileOffset
            async let write: Void = threadPool.runIfActive {
                try POSIXFile.write(fd, buffer, at: at, path: path)
                if let started { POSIXFile.startWriteback(fd, range: started) }
            }
            buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            try await write
            fileOffset = end
            if started != nil { writeback = end }
        }
        do {
            for try await buffer in body {
                written += Int64(buffer.readableBytes)
                if let expectedLength, written > expectedLength {
                    throw RegistryError(.sizeInvalid, "body is larger than its Content-Length")
                }
                if gathered.readableBytes > 0, gathered.writableBytes < buffer.readableBytes {
                    try await writeAndHash(gathered)
                    gathered.clear()
                }
                if gathered.readableBytes == 0, buffer.readableBytes >= gatherSize {
                    // A part as large as the buffer goes to the file as it is.
                    try await writeAndHash(buffer)
                    continue
                }
                gathered.writeImmutableBuffer(buffer)
            }
            if gathered.readableBytes > 0 {
                try await writeAndHash(gathered)
            }
            if let expectedLength, written != expectedLength {
                throw RegistryError(.sizeInvalid, "body is shorter than its Content-Length")
            }
        } catch {
            // Leave the staging file as it was before this request. The hasher may have taken
            // bytes the file did not; it is dropped with the error.
            try? await threadPool.runIfActive { try POSIXFile.truncate(fd, to: offset, path: path) }
            throw error
        }
        return StagedUpload(id: upload.id, size: offset + written, hasher: hasher)
    }

    /// How much of an upload is written before its writeback is started. Without it the
    /// kernel writes nothing back until the upload's fsync (a 1 GiB upload stays under the
    /// dirty-memory thresholds of a host with a few GiB), and then the client waits for the
    /// whole file to reach the disk; started as the bytes arrive, the disk works while the
    /// network does, and the fsync finds little left.
    static let writebackStep: Int64 = 8 << 20

    public func rehash(_ upload: StagedUpload, algorithm: DigestAlgorithm) async throws -> DigestHasher {
        try await hashStagingFile(upload.id, algorithm: algorithm)
    }

    /// Reads a staging file from the start through `algorithm`.
    private func hashStagingFile(_ id: String, algorithm: DigestAlgorithm) async throws -> DigestHasher {
        let path = uploadPath(id)
        let fd: Int32
        do {
            fd = try await threadPool.runIfActive { try POSIXFile.open(path, O_RDONLY) }
        } catch let failure as POSIXFile.Failure where failure.errno == ENOENT {
            throw Self.stagingMissing
        }
        defer { POSIXFile.close(fd) }
        var hasher = DigestHasher(algorithm)
        var offset: Int64 = 0
        let chunkSize = self.chunkSize
        while true {
            let start = offset
            let chunk = try await threadPool.runIfActive { try POSIXFile.read(fd, count: chunkSize, at: start, path: path) }
            if chunk.readableBytes == 0 { break }
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            offset += Int64(chunk.readableBytes)
        }
        return hasher
    }

    /// fsync the staging file, then rename it into place and fsync the blob's folder, unless
    /// the blob is stored already (the same bytes, by its name; then made durable as it is).
    public func commitUpload(_ upload: StagedUpload, as digest: Digest) async throws {
        let source = uploadPath(upload.id)
        let destination = path(of: digest)
        try await threadPool.runIfActive {
            if try Self.syncIfPresent(destination) { return }
            try Self.install(source, at: destination)
        }
    }

    /// When the blob's file is there already, fsyncs it and its folder and returns true. A
    /// file found in place may not be durable yet: an import places a batch of blobs and
    /// syncs them together afterwards (or was killed before), and a row recorded on the
    /// strength of that file must not outlive a power loss.
    static func syncIfPresent(_ destination: String) throws -> Bool {
        guard try POSIXFile.size(destination) != nil else { return false }
        let fd = try POSIXFile.open(destination, O_RDONLY)
        defer { POSIXFile.close(fd) }
        try POSIXFile.fsync(fd, path: destination)
        try POSIXFile.fsyncDirectory(POSIXFile.dirname(of: destination))
        return true
    }

    /// Makes a staged file the blob at `destination`, durably: fsync of the file, rename into
    /// place, fsync of its folder. Blocking; run on the thread pool.
    static func install(_ staged: String, at destination: String) throws {
        let fd = try POSIXFile.open(staged, O_RDONLY)
        defer { POSIXFile.close(fd) }
        try POSIXFile.fsync(fd, path: staged)
        let folder = POSIXFile.dirname(of: destination)
        try POSIXFile.makeDirectories(folder)
        try POSIXFile.rename(staged, destination)
        try POSIXFile.fsyncDirectory(folder)
    }

    public func discardUpload(id: String) async throws {
        let path = uploadPath(id)
        try await threadPool.runIfActive { try POSIXFile.remove(path) }
    }

    /// The staging file of a session is gone: the session cannot go on.
    static let stagingMissing = RegistryError(.blobUploadUnknown, "upload unknown")
}
