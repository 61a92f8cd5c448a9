import Foundation
import NIOCore
import RegistryCore

/// Upload sessions: start, append chunks, finish with a digest check, cancel.
///
/// A session is a row in the metadata store plus a staging file in the blob store; its hash
/// state lives in memory between requests and is rebuilt from the staged bytes after a restart.
/// A failed or mismatched upload leaves nothing behind.
public struct BlobUploads: Sendable {
    public let blobs: any BlobStore
    public let metadata: any MetadataStore
    private let states = UploadStates()

    public init(blobs: any BlobStore, metadata: any MetadataStore) {
        self.blobs = blobs
        self.metadata = metadata
    }

    /// Opens a new session and returns its id.
    public func start(in repository: RepositoryName) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await blobs.createUpload(id: id)
        do {
            try await metadata.createUpload(id: id, repository: repository)
        } catch {
            try? await blobs.removeUpload(id: id)
            throw error
        }
        return id
    }

    /// The number of bytes received so far.
    public func size(of id: String, in repository: RepositoryName) async throws -> Int64 {
        try await session(id, in: repository)
        guard let size = try await blobs.uploadSize(id: id) else { throw Self.unknownUpload }
        return size
    }

    /// Appends a chunk. `start`, from `Content-Range`, must equal the bytes received so far.
    /// - Returns: the new total size.
    public func append<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, body: Body, start: Int64?, length: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        try await session(id, in: repository)
        return try await withState(id) { state in
            if let start, start != state.size {
                throw RegistryError(
                    .blobUploadInvalid, "Content-Range does not continue the upload",
                    detail: "the upload has \(state.size) bytes; the chunk starts at \(start)", status: 416)
            }
            let written = try await blobs.appendToUpload(
                id: id, at: state.size, from: body, hasher: &state.hasher, limit: length)
            if let length, written != length {
                throw RegistryError(.sizeInvalid, "body is shorter than its Content-Length")
            }
            state.size += written
            return state.size
        }
    }

    /// Finishes a session: appends the last chunk, checks the digest, stores the blob durably
    /// and links it into the repository.
    /// - Returns: the blob's size.
    public func finish<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, digest: Digest, body: Body?, length: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        try await session(id, in: repository)
        let verified: Result<Int64, any Error> = await Result {
            try await withState(id) { state in
                if let body {
                    let written = try await blobs.appendToUpload(
                        id: id, at: state.size, from: body, hasher: &state.hasher, limit: length)
                    if let length, written != length {
                        throw RegistryError(.sizeInvalid, "body is shorter than its Content-Length")
                    }
                    state.size += written
                }
                var hasher = state.hasher
                if hasher.algorithm != digest.algorithm {
                    hasher = try await blobs.hashUpload(id: id, algorithm: digest.algorithm).hasher
                }
                let actual = hasher.finalize()
                guard actual == digest else {
                    throw RegistryError(
                        .digestInvalid, "uploaded content does not match the digest",
                        detail: "expected \(digest), got \(actual)")
                }
                return state.size
            }
        }
        switch verified {
        case .success(let size):
            try await store(id, as: digest, size: size, in: repository, session: id)
            await states.forget(id)
            return size
        case .failure(let error as RegistryError) where error.code == .digestInvalid:
            try await discard(id)
            throw error
        case .failure(let error):
            throw error
        }
    }

    /// A whole blob in one request (`POST ...?digest=`). The staging file has no session row:
    /// a crash leaves only a stray file, which startup removes.
    public func uploadWhole<Body: AsyncSequence & Sendable>(
        to repository: RepositoryName, digest: Digest, body: Body, length: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        let id = "whole-" + UUID().uuidString.lowercased()
        try await blobs.createUpload(id: id)
        do {
            var hasher = DigestHasher(digest.algorithm)
            let size = try await blobs.appendToUpload(id: id, at: 0, from: body, hasher: &hasher, limit: length)
            if let length, size != length {
                throw RegistryError(.sizeInvalid, "body is shorter than its Content-Length")
            }
            let actual = hasher.finalize()
            guard actual == digest else {
                throw RegistryError(
                    .digestInvalid, "uploaded content does not match the digest", detail: "expected \(digest), got \(actual)")
            }
            try await store(id, as: digest, size: size, in: repository, session: nil)
            return size
        } catch {
            try? await blobs.removeUpload(id: id)
            throw error
        }
    }

    /// Makes a verified upload durable and visible: fsync the staged file, then, under the
    /// metadata store's write lock, rename it into place (unless the blob exists) and commit
    /// its rows. A staged copy of a blob that was already stored is removed afterwards.
    private func store(
        _ id: String, as digest: Digest, size: Int64, in repository: RepositoryName, session: String?
    ) async throws {
        try await blobs.syncUpload(id: id)
        let blobs = self.blobs
        try await metadata.recordBlob(digest, size: size, in: repository, completingUpload: session) {
            _ = try blobs.placeUpload(id: id, as: digest)
        }
        try await blobs.removeUpload(id: id)
    }

    /// Cancels a session and removes what it staged.
    public func cancel(_ id: String, in repository: RepositoryName) async throws {
        try await session(id, in: repository)
        try await discard(id)
    }

    private func discard(_ id: String) async throws {
        await states.forget(id)
        try await metadata.deleteUpload(id: id)
        try await blobs.removeUpload(id: id)
    }

    static let unknownUpload = RegistryError(.blobUploadUnknown, "upload unknown")

    private func session(_ id: String, in repository: RepositoryName) async throws {
        guard Self.isValidID(id), let session = try await metadata.upload(id: id), session.repository == repository else {
            throw Self.unknownUpload
        }
    }

    /// Runs `body` with the upload's hash state held; keeps the new state only on success.
    private func withState<T: Sendable>(
        _ id: String, _ body: (inout UploadStates.State) async throws -> T
    ) async throws -> T {
        var state: UploadStates.State
        if let cached = try await states.checkOut(id) {
            state = cached
        } else {
            do {
                let rebuilt = try await blobs.hashUpload(id: id, algorithm: .sha256)
                state = .init(hasher: rebuilt.hasher, size: rebuilt.size)
            } catch {
                await states.checkIn(id, nil)
                throw Self.unknownUpload
            }
        }
        let before = state
        do {
            let result = try await body(&state)
            await states.checkIn(id, state)
            return result
        } catch {
            await states.checkIn(id, before)
            throw error
        }
    }

    /// Ids are UUIDs we made; anything else never reaches the file system.
    static func isValidID(_ id: String) -> Bool {
        id.count == 36 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2d }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
