import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

extension RegistryAPI {
    /// `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single `Range` requests.
    func getBlob(_ name: RepositoryName, _ digestText: String, _ request: Request, context: RegistryRequestContext)
        async throws -> Response
    {
        let (digest, size) = try await service.blob(digestText, in: name)
        var headers = HTTPFields()
        headers[.dockerContentDigest] = digest.description
        headers[.contentType] = "application/octet-stream"
        headers[.eTag] = "\"\(digest)\""
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "max-age=31536000"
        if let match = request.headers[.ifNoneMatch], match == "\"\(digest)\"" || match == digest.description {
            return .empty(.notModified, headers: headers)
        }
        if let redirect = try await service.blobRedirect(digest, method: request.method == .head ? .head : .get, in: name) {
            headers[.location] = redirect
            return .empty(.temporaryRedirect, headers: headers)
        }
        let range: Range<Int64>
        var status = HTTPResponse.Status.ok
        switch ByteRange.resolve(request.headers[.range], size: size) {
        case .whole:
            range = 0..<size
        case .partial(let part):
            range = part
            status = .partialContent
            headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(size)"
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            let error = RegistryError(.sizeInvalid, "requested range not satisfiable", detail: "size \(size)")
            return Response.json(OCIErrorBody(error), status: .rangeNotSatisfiable, method: request.method, headers: headers)
        }
        headers[.contentLength] = String(range.count)
        guard request.method == .get, !range.isEmpty else {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        let reader = try await service.openBlob(digest, range: range, in: name)
        let eventLoop = context.eventLoop
        let body = ResponseBody(contentLength: range.count) { writer in
            try await reader.stream { chunk in
                try await writer.write(chunk)
                // NIO's async writer accepts a chunk before the event loop has handed it to the
                // socket, and learns that the socket is full only when the loop runs. Waiting for
                // the loop once per chunk keeps about one chunk in flight per download, so memory
                // stays flat even when the loop is busy and the disk outruns the network.
                try await eventLoop.submit {}.get()
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from the repository.
    func deleteBlob(_ name: RepositoryName, _ digestText: String) async throws -> Response {
        let digest = try await service.deleteBlob(digestText, in: name)
        var headers = HTTPFields()
        headers[.dockerContentDigest] = digest.description
        return .empty(.accepted, headers: headers)
    }
}
