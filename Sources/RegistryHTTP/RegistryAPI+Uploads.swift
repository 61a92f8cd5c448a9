import HTTPTypes
import Hummingbird
import RegistryCore

extension RegistryAPI {
    /// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount, a whole blob with `?digest=`,
    /// or a new session (202).
    func startUpload(_ name: RepositoryName, _ request: Request) async throws -> Response {
        if let mount = request.query("mount") {
            let digest = try Digest(parsing: mount)
            if let from = request.query("from") {
                if let source = try? RepositoryName(from), try await metadata.mountBlob(digest, from: source, into: name) {
                    return blobCreated(name, digest)
                }
            } else if berth.mountAnywhere, try await metadata.mountBlobFromAnyRepository(digest, into: name) {
                return blobCreated(name, digest)
            }
            // Not mountable: fall through to an ordinary upload, as the specification asks.
        } else if let digestParameter = request.query("digest") {
            let digest = try Digest(parsing: digestParameter)
            _ = try await uploads.uploadWhole(
                to: name, digest: digest, body: request.body, length: request.contentLength)
            return blobCreated(name, digest)
        }
        let id = try await uploads.start(in: name)
        return uploadAccepted(name, id, size: 0)
    }

    /// `GET` on an upload: how much has arrived.
    func uploadStatus(_ name: RepositoryName, _ id: String) async throws -> Response {
        let size = try await uploads.size(of: id, in: name)
        return uploadAccepted(name, id, size: size, status: .noContent)
    }

    /// `PATCH` on an upload: append a chunk. `Content-Range` must continue the upload.
    func patchUpload(_ name: RepositoryName, _ id: String, _ request: Request) async throws -> Response {
        let start = try contentRangeStart(request)
        let size = try await uploads.append(
            id, in: name, body: request.body, start: start, length: request.contentLength)
        return uploadAccepted(name, id, size: size)
    }

    /// `PUT` on an upload with `?digest=`: the last chunk, if any, then verify and store.
    func finishUpload(_ name: RepositoryName, _ id: String, _ request: Request) async throws -> Response {
        guard let digestParameter = request.query("digest") else {
            throw RegistryError(.digestInvalid, "the digest query parameter is required to finish an upload")
        }
        let digest = try Digest(parsing: digestParameter)
        _ = try contentRangeStart(request)
        _ = try await uploads.finish(id, in: name, digest: digest, body: request.body, length: request.contentLength)
        return blobCreated(name, digest)
    }

    /// `DELETE` on an upload: cancel it.
    func cancelUpload(_ name: RepositoryName, _ id: String) async throws -> Response {
        try await uploads.cancel(id, in: name)
        return .empty(.noContent)
    }

    // MARK: Helpers

    /// The start of `Content-Range`, checked against `Content-Length` when both are given.
    private func contentRangeStart(_ request: Request) throws(RegistryError) -> Int64? {
        try request.headers[.contentRange].map { header throws(RegistryError) in
            try ContentRange(parsing: header, contentLength: request.contentLength).start
        }
    }

    private func blobCreated(_ name: RepositoryName, _ digest: Digest) -> Response {
        var headers = HTTPFields()
        headers[.location] = "/v2/\(name)/blobs/\(digest)"
        headers[.dockerContentDigest] = digest.description
        return .empty(.created, headers: headers)
    }

    private func uploadAccepted(
        _ name: RepositoryName, _ id: String, size: Int64, status: HTTPResponse.Status = .accepted
    ) -> Response {
        var headers = HTTPFields()
        headers[.location] = "/v2/\(name)/blobs/uploads/\(id)"
        headers[.dockerUploadUUID] = id
        headers[.range] = "0-\(max(0, size - 1))"
        return .empty(status, headers: headers)
    }
}
