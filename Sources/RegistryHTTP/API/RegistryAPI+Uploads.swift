import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

extension RegistryAPI {
    /// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount, a whole blob with `?digest=`,
    /// or a new session (202).
    func startUpload(_ name: RepositoryName, _ request: Request) async throws -> Response {
        if request.query("mount") == nil, let digest = request.query("digest") {
            let stored = try await service.uploadWhole(request.body, length: request.contentLength, digest: digest, in: name)
            return blobCreated(name, stored)
        }
        switch try await service.startUpload(in: name, mount: request.query("mount"), from: request.query("from")) {
        case .mounted(let digest), .stored(let digest):
            return blobCreated(name, digest)
        case .started(let id):
            return uploadAccepted(name, id, size: 0)
        }
    }

    /// `GET` on an upload: how much has arrived.
    func uploadStatus(_ name: RepositoryName, _ id: String) async throws -> Response {
        let size = try await service.uploadSize(id, in: name)
        return uploadAccepted(name, id, size: size, status: .noContent)
    }

    /// `PATCH` on an upload: append a chunk. `Content-Range` must continue the upload.
    func patchUpload(_ name: RepositoryName, _ id: String, _ request: Request) async throws -> Response {
        let start = try contentRangeStart(request)
        let size = try await service.appendToUpload(
            id, in: name, body: request.body, start: start, length: request.contentLength)
        return uploadAccepted(name, id, size: size)
    }

    /// `PUT` on an upload with `?digest=`: the last chunk, if any, then verify and store.
    func finishUpload(_ name: RepositoryName, _ id: String, _ request: Request) async throws -> Response {
        _ = try contentRangeStart(request)
        let digest = try await service.finishUpload(
            id, in: name, digest: request.query("digest"), body: request.body, length: request.contentLength)
        return blobCreated(name, digest)
    }

    /// `DELETE` on an upload: cancel it.
    func cancelUpload(_ name: RepositoryName, _ id: String) async throws -> Response {
        try await service.cancelUpload(id, in: name)
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
        headers[.location] = locations.url("/v2/\(name)/blobs/\(digest)")
        headers[.dockerContentDigest] = digest.description
        return .empty(.created, headers: headers)
    }

    private func uploadAccepted(
        _ name: RepositoryName, _ id: String, size: Int64, status: HTTPResponse.Status = .accepted
    ) -> Response {
        var headers = HTTPFields()
        headers[.location] = locations.url("/v2/\(name)/blobs/uploads/\(id)")
        headers[.dockerUploadUUID] = id
        headers[.range] = "0-\(max(0, size - 1))"
        return .empty(status, headers: headers)
    }
}
