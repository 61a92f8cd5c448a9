import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService
import RegistryStorage

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
        // A GET that sends bytes is a pull (Distribution's blob pull event); noted in memory.
        service.notePulledBlob(digest, size: size, in: name)
        if let file = reader as? any FileBackedBlobReader, file.remainingFile == nil,
            file.leadingBytes.readableBytes == range.count
        {
            // Read whole when it was opened (a small blob): head, body and end go out in one
            // write, with no streaming.
            return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: file.leadingBytes))
        }
        let eventLoop = context.eventLoop
        let sendfile = context.sendfile
        let body = ResponseBody(contentLength: range.count) { writer in
            // On plain HTTP, the kernel sends the file (no copy through user space, nothing
            // buffered here); the file was opened before the head, so a blob that garbage
            // collection unlinks meanwhile is still sent whole.
            if let file = reader as? any FileBackedBlobReader, let rest = file.remainingFile,
                try await sendfile.isAvailable()
            {
                // The leading bytes are let go once written, not held until the file is sent.
                guard
                    try await sendfile.send(
                        leading: file.takeLeadingBytes(), descriptor: rest.descriptor, range: rest.range)
                else {
                    throw RegistryError(.unavailable, "the connection stopped taking file regions")
                }
                withExtendedLifetime(reader) {}
                try await writer.finish(nil)
                return
            }
            // A blob still arriving from a mirror's upstream: each stretch goes to the kernel
            // as soon as the download has written it.
            if let growing = reader as? any GrowingFileBlobReader, try await sendfile.isAvailable() {
                try await growing.sendWritten { descriptor, range in
                    guard try await sendfile.send(leading: ByteBuffer(), descriptor: descriptor, range: range) else {
                        throw RegistryError(.unavailable, "the connection stopped taking file regions")
                    }
                }
                try await writer.finish(nil)
                return
            }
            var writtenSinceWait = 0
            try await reader.stream { chunk in
                // Written in slices: behind TLS each write is encrypted into a buffer of its own
                // size that the TLS handler keeps for the connection's lifetime, and each slice
                // waits for the socket to drain below its watermark before the next is accepted.
                var unsent = chunk
                while let slice = unsent.readSlice(length: min(Self.writeSlice, unsent.readableBytes)),
                    slice.readableBytes > 0
                {
                    try await writer.write(slice)
                }
                // NIO's async writer accepts a chunk before the event loop has handed it to the
                // socket, and learns that the socket is full only when the loop runs. Waiting for
                // the loop before the next chunk is read lets this one be encrypted and dropped
                // first, so a download holds one chunk and its ciphertext. Waiting after each
                // MiB instead, eight parallel TLS downloads held 28 chunks of 512 KiB at their
                // peak (heaptrack) and TLS buffers of up to 1 MiB per connection.
                writtenSinceWait += chunk.readableBytes
                if writtenSinceWait >= Self.loopWaitBytes {
                    writtenSinceWait = 0
                    try await eventLoop.submit {}.get()
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// The largest body write of a streamed blob: 15 TLS records, whose ciphertext (with the
    /// records' overhead) still fits a 256 KiB buffer.
    static let writeSlice = 15 * 16 * 1024

    /// How much of a streamed blob is written between waits for the event loop: one chunk of
    /// a file read behind TLS or of a bucket's body (256 KiB each); readers with smaller
    /// chunks wait once per this much rather than once per chunk.
    static let loopWaitBytes = 256 << 10

    /// `DELETE /v2/<name>/blobs/<digest>`: unlinks the blob from the repository.
    func deleteBlob(_ name: RepositoryName, _ digestText: String) async throws -> Response {
        let digest = try await service.deleteBlob(digestText, in: name)
        var headers = HTTPFields()
        headers[.dockerContentDigest] = digest.description
        return .empty(.accepted, headers: headers)
    }
}
