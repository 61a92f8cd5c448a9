import NIOCore
import RegistryCore
import RegistryStorage

/// How `POST /v2/<name>/blobs/uploads/` went.
public enum UploadStart: Sendable, Equatable {
    /// A cross-repository mount linked the blob: nothing to upload.
    case mounted(Digest)
    /// The whole blob came with the request and is stored.
    case stored(Digest)
    /// A session was opened; the client sends the bytes to it.
    case started(id: String)
}

extension RegistryService {
    /// Starts an upload: a mount of `mount` from `from` when it can be done (from any repository
    /// with `berth.mount.anywhere` when `from` is absent), else a new session, as the
    /// specification asks of a mount that cannot be made.
    public func startUpload(in repository: RepositoryName, mount: String?, from: String?) async throws -> UploadStart {
        try rules.requireWritable()
        try requirePrivate(repository)
        if let mount {
            let digest = try Digest(parsing: mount)
            if let from {
                if let source = try? RepositoryName(from), try await mountBlob(digest, from: source, into: repository) {
                    return .mounted(digest)
                }
            } else if rules.mountAnywhere, try await mountBlob(digest, from: nil, into: repository) {
                return .mounted(digest)
            }
        }
        return .started(id: try await uploads.start(in: repository))
    }

    /// A whole blob in the request that starts the upload (`POST ?digest=`).
    public func uploadWhole<Body: AsyncSequence & Sendable>(
        _ body: Body, length: Int64?, digest: String, in repository: RepositoryName
    ) async throws -> Digest where Body.Element == ByteBuffer {
        try rules.requireWritable()
        try requirePrivate(repository)
        let parsed = try Digest(parsing: digest)
        _ = try await uploads.uploadWhole(
            to: repository, digest: parsed, body: body, length: length,
            events: blobEvent(.push, parsed, size: nil, in: repository).map { [$0] } ?? [])
        return parsed
    }

    /// Bytes received so far.
    public func uploadSize(_ id: String, in repository: RepositoryName) async throws -> Int64 {
        try await uploads.size(of: id, in: repository)
    }

    /// Appends a chunk; `start` (from `Content-Range`) must continue the upload.
    public func appendToUpload<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, body: Body, start: Int64?, length: Int64?
    ) async throws -> Int64 where Body.Element == ByteBuffer {
        try rules.requireWritable()
        try requirePrivate(repository)
        return try await uploads.append(id, in: repository, body: body, start: start, length: length)
    }

    /// Appends the last chunk, if any, verifies the digest and stores the blob.
    public func finishUpload<Body: AsyncSequence & Sendable>(
        _ id: String, in repository: RepositoryName, digest: String?, body: Body?, length: Int64?
    ) async throws -> Digest where Body.Element == ByteBuffer {
        try rules.requireWritable()
        try requirePrivate(repository)
        guard let digest else {
            throw RegistryError(.digestInvalid, "the digest query parameter is required to finish an upload")
        }
        let parsed = try Digest(parsing: digest)
        _ = try await uploads.finish(
            id, in: repository, digest: parsed, body: body, length: length,
            events: blobEvent(.push, parsed, size: nil, in: repository).map { [$0] } ?? [])
        return parsed
    }

    public func cancelUpload(_ id: String, in repository: RepositoryName) async throws {
        try rules.requireWritable()
        try requirePrivate(repository)
        try await uploads.cancel(id, in: repository)
    }
}

extension RegistryService {
    /// A mount from `source` (from any repository when nil), with its event when notifying:
    /// Distribution's mount event names the blob, its size and the repository it came from.
    private func mountBlob(_ digest: Digest, from source: RepositoryName?, into repository: RepositoryName) async throws
        -> Bool
    {
        guard let notifier else {
            if let source { return try await metadata.mountBlob(digest, from: source, into: repository) }
            return try await metadata.mountBlobFromAnyRepository(digest, into: repository)
        }
        // The size as the source sees it, read just before the mount (the event only reports it).
        let size = if let source { try await metadata.blobSize(digest, in: source) } else { Int64?.none }
        let events = blobEvent(.mount, digest, size: size, in: repository, from: source).map { [$0] } ?? []
        if let source { return try await notifier.outbox.mountBlob(digest, from: source, into: repository, events: events) }
        return try await notifier.outbox.mountBlobFromAnyRepository(digest, into: repository, events: events)
    }
}
