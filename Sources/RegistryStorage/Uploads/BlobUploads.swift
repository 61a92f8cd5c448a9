import Foundation
import NIOCore
import RegistryCore

/// Upload sessions: start, append chunks, finish with a digest check, cancel.
///
/// A session is a row in the metadata store holding its ``StagedUpload`` (size, running hash,
/// where the bytes are) plus the bytes staged in the blob store. Every request reads the row
/// and writes it back, so any server can take any request of an upload. A failed or
/// mismatched upload leaves nothing behind; a finished one becomes visible only once its bytes
/// are durable (see ``GarbageCollector`` for how that holds against garbage collection).
public struct BlobUploads: Sendable {
    public let blobs: any BlobStore
    public let metadata: any MetadataStore
    private let locks = UploadLocks()

    public init(blobs: any BlobStore, metadata: any MetadataStore) {
        self.blobs = blobs
        self.metadata = metadata
    }

    /// Opens a new session and returns its id.
    public func start(in repository: RepositoryName) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let staged = try await blobs.beginUpload(id: id)
        do {
            try await metadata.createUpload(
                UploadSession(id: id, repository: repository, startedAt: Date(), staged: staged))
        } catch {
            try? await blobs.discardUpload(id: id)
            throw error
        }
        return id
    }

    /// The number of bytes received so far.
    public func size(of id: String, in repository: RepositoryName) async throws -> Int64 {
        try await blobs.reconcile(try await session(id, in: repository).staged).size
    }

    /// Appends a chunk. `start`, from `Content-Range`, must equal the bytes received so far.
    /// - Returns: the new total size.
    public func append<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, body: Body, start: Int64?, length: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        try await locks.hold(id) {
            let session = try await session(id, in: repository)
            let staged = try await blobs.reconcile(session.staged)
            if let start, start != staged.size {
                throw RegistryError(
                    .blobUploadInvalid, "Content-Range does not continue the upload",
                    detail: "the upload has \(staged.size) bytes; the chunk starts at \(start)", condition: .rangeMismatch)
            }
            let appended = try await blobs.append(body, to: staged, expectedLength: length)
            guard try await metadata.updateUpload(id: id, staged: appended, expectedSize: session.staged.size) else {
                throw Self.unknownUpload
            }
            return appended.size
        }
    }

    /// Finishes a session: appends the last chunk, checks the digest, stores the blob durably
    /// and links it into the repository.
    /// - Returns: the blob's size.
    public func finish<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, digest: Digest, body: Body?, length: Int64?,
        events: [RegistryEvent] = []
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        try await locks.hold(id) {
            var staged = try await blobs.reconcile(try await session(id, in: repository).staged)
            if let body {
                staged = try await blobs.append(body, to: staged, expectedLength: length)
            }
            do {
                try await verify(staged, as: digest)
            } catch let error as RegistryError where error.code == .digestInvalid {
                try await discard(id)
                throw error
            }
            try await store(staged, as: digest, in: repository, completingUpload: id, events: events)
            return staged.size
        }
    }

    /// A whole blob in one request (`POST ...?digest=`). Staged with no session row: a crash
    /// leaves only stray staged bytes, which startup recovery or purging removes.
    public func uploadWhole<Body: AsyncSequence & Sendable>(
        to repository: RepositoryName, digest: Digest, body: Body, length: Int64?, events: [RegistryEvent] = []
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        let id = "whole-" + UUID().uuidString.lowercased()
        var staged = try await blobs.beginUpload(id: id)
        do {
            staged = try await blobs.append(body, to: staged, expectedLength: length)
            try await verify(staged, as: digest)
            try await store(staged, as: digest, in: repository, completingUpload: nil, events: events)
            return staged.size
        } catch {
            try? await blobs.discardUpload(id: id)
            throw error
        }
    }

    /// Stores a file on this machine whose digest the caller has verified (an import, a
    /// mirror's finished download) as the blob `digest`, linked into `repository`: reserved,
    /// placed durably (hard-linked where the store can take the file in, copied otherwise;
    /// nothing placed when the store has the bytes already), then recorded. The file is only
    /// read. Returns true when it was hard-linked.
    public func storeFile(at path: String, as digest: Digest, size: Int64, in repository: RepositoryName) async throws
        -> Bool
    {
        let reservation = try await reserve(digest)
        do {
            var linked = false
            if try await blobs.size(of: digest) == nil {
                if let importing = blobs as? any BlobFileImporting {
                    linked = try await importing.importFile(at: path, as: digest)
                } else {
                    try await blobs.importFileByCopy(at: path, as: digest, size: size)
                }
            }
            try await metadata.recordBlob(digest, size: size, in: repository, reservation: reservation, completingUpload: nil)
            return linked
        } catch {
            try? await metadata.releaseReservation(reservation)
            throw error
        }
    }

    /// Cancels a session and removes what it staged.
    public func cancel(_ id: String, in repository: RepositoryName) async throws {
        _ = try await session(id, in: repository)
        try await discard(id)
    }

    // MARK: Steps

    /// Throws `DIGEST_INVALID` unless the staged bytes hash to `digest`.
    private func verify(_ staged: StagedUpload, as digest: Digest) async throws {
        let hasher: DigestHasher
        if let running = staged.hasher, running.algorithm == digest.algorithm {
            hasher = running
        } else {
            hasher = try await blobs.rehash(staged, algorithm: digest.algorithm)
        }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw RegistryError(
                .digestInvalid, "uploaded content does not match the digest", detail: "expected \(digest), got \(actual)")
        }
    }

    /// Makes verified bytes durable and visible: reserve the digest, commit the staged bytes
    /// as the blob, then record its row (which ends the session) with `events` (their target
    /// size set to the blob's) in the outbox. Staged leftovers go last.
    private func store(
        _ staged: StagedUpload, as digest: Digest, in repository: RepositoryName, completingUpload: String?,
        events: [RegistryEvent]
    ) async throws {
        let reservation = try await reserve(digest)
        do {
            try await blobs.commitUpload(staged, as: digest)
            if !events.isEmpty, let outbox = metadata as? any EventOutboxStore {
                let sized = events.map { event in
                    var event = event
                    event.target.size = staged.size
                    event.target.length = staged.size
                    return event
                }
                try await outbox.recordBlob(
                    digest, size: staged.size, in: repository, reservation: reservation,
                    completingUpload: completingUpload, events: sized)
            } else {
                try await metadata.recordBlob(
                    digest, size: staged.size, in: repository, reservation: reservation, completingUpload: completingUpload)
            }
        } catch {
            try? await metadata.releaseReservation(reservation)
            throw error
        }
        try? await blobs.discardUpload(id: staged.id)
    }

    /// Reserves a digest, waiting for a garbage collection that is deleting its bytes (one
    /// batch takes about a second) before giving up with a retryable refusal.
    private func reserve(_ digest: Digest) async throws -> BlobReservation {
        var delay = Duration.milliseconds(50)
        let deadline = ContinuousClock.now + Self.reservationPatience
        while true {
            do {
                return try await metadata.reserveBlob(digest)
            } catch is BlobBeingDeleted where ContinuousClock.now + delay < deadline {
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(1))
            } catch is BlobBeingDeleted {
                throw RegistryError(
                    .unavailable, "the blob is being garbage-collected; upload it again shortly",
                    detail: digest.description, condition: .retryLater)
            }
        }
    }

    static let reservationPatience: Duration = .seconds(10)

    private func discard(_ id: String) async throws {
        try await metadata.deleteUpload(id: id)
        try await blobs.discardUpload(id: id)
    }

    static let unknownUpload = RegistryError(.blobUploadUnknown, "upload unknown")

    private func session(_ id: String, in repository: RepositoryName) async throws -> UploadSession {
        guard Self.isValidID(id), let session = try await metadata.upload(id: id), session.repository == repository else {
            throw Self.unknownUpload
        }
        return session
    }

    /// Ids are UUIDs we made; anything else never reaches a store.
    static func isValidID(_ id: String) -> Bool {
        id.count == 36 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2d }
    }
}
