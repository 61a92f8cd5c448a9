import HTTPTypes
import Hummingbird
import RegistryCore

extension RegistryAPI {
    /// `GET`/`HEAD /v2/<name>/blobs/<digest>`, with single `Range` requests.
    func getBlob(
        _ name: RepositoryName, _ digest: Digest, _ request: Request, context: RegistryRequestContext
    ) async throws -> Response {
        guard let size = try await metadata.blobSize(digest, in: name) else {
            throw RegistryError(.blobUnknown, "blob unknown to registry", detail: digest.description)
        }
        var headers = HTTPFields()
        headers[.dockerContentDigest] = digest.description
        headers[.contentType] = "application/octet-stream"
        headers[.eTag] = "\"\(digest)\""
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "max-age=31536000"
        if let match = request.headers[.ifNoneMatch], match == "\"\(digest)\"" || match == digest.description {
            return .empty(.notModified, headers: headers)
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
            let error = RegistryError(.sizeInvalid, "requested range not satisfiable", detail: "size \(size)", status: 416)
            return Response.json(error.jsonBody, status: .rangeNotSatisfiable, method: request.method, headers: headers)
        }
        headers[.contentLength] = String(range.count)
        guard request.method == .get, !range.isEmpty else {
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        // Open before answering: a file that garbage collection removed a moment ago (the
        // metadata cache may not know yet) is a clean 404, not a body cut short.
        guard let reader = try await blobs.open(digest, range: range) else {
            throw RegistryError(.blobUnknown, "blob unknown to registry", detail: digest.description)
        }
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

    /// `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from the repository. The bytes stay
    /// until garbage collection finds nothing else using them.
    func deleteBlob(_ name: RepositoryName, _ digest: Digest) async throws -> Response {
        try requireDelete()
        guard try await metadata.unlinkBlob(digest, from: name) else {
            throw RegistryError(.blobUnknown, "blob unknown to repository", detail: digest.description)
        }
        var headers = HTTPFields()
        headers[.dockerContentDigest] = digest.description
        return .empty(.accepted, headers: headers)
    }
}
