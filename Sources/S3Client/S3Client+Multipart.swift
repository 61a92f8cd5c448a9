import Foundation
import NIOCore

/// A part of a multipart upload that the server holds.
public struct S3Part: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var size: Int64

    public init(number: Int, etag: String, size: Int64) {
        self.number = number
        self.etag = etag
        self.size = size
    }
}

/// A multipart upload that was started and neither completed nor aborted.
public struct S3MultipartUpload: Sendable, Equatable {
    public var key: String
    public var uploadID: String
}

extension S3Client {
    /// S3's smallest part, except the last: 5 MiB.
    public static let minimumPartSize: Int64 = 5 << 20
    /// S3's largest part number.
    public static let maximumPartCount = 10_000

    /// Starts a multipart upload and returns its id.
    public func createMultipartUpload(key: String, contentType: String? = nil) async throws -> String {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        if let storageClass = configuration.storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        let response = try await send(.POST, key: key, query: [("uploads", "")], headers: headers)
        return try S3XML.decode(S3XML.InitiateMultipartUploadResult.self, from: try await collectXML(response)).UploadId
    }

    /// Uploads part `number` (1…10,000) and returns its ETag.
    public func uploadPart(key: String, uploadID: String, number: Int, payload: Payload) async throws -> S3Part {
        let response = try await send(
            .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], payload: payload)
        guard let etag = Self.etag(response.headers) else {
            throw S3Error(code: "MissingETag", status: Int(response.status.code), message: "UploadPart answered no ETag")
        }
        return S3Part(number: number, etag: etag, size: payload.length)
    }

    /// Makes part `number` from bytes of an existing object, server-side.
    public func uploadPartCopy(
        key: String, uploadID: String, number: Int, source: String, range: ClosedRange<Int64>? = nil
    ) async throws -> S3Part {
        var headers = [("x-amz-copy-source", copySource(source))]
        if let range { headers.append(("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send(
            .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: headers)
        let result = try S3XML.decode(S3XML.CopyResult.self, from: try await collectXML(response))
        guard let etag = result.ETag else {
            throw S3Error(code: "MissingETag", status: 200, message: "UploadPartCopy answered no ETag")
        }
        let size: Int64
        if let range {
            size = range.upperBound - range.lowerBound + 1
        } else {
            size = try await headObject(key: source)?.size ?? 0
        }
        return S3Part(number: number, etag: Self.unquote(etag), size: size)
    }

    /// Joins the parts, in number order, into the object.
    public func completeMultipartUpload(key: String, uploadID: String, parts: [S3Part]) async throws {
        let body = try S3XML.encode(
            S3XML.CompleteMultipartUpload(
                Part: parts.sorted { $0.number < $1.number }.map { .init(PartNumber: $0.number, ETag: "\"\($0.etag)\"") }),
            root: "CompleteMultipartUpload")
        let response = try await send(
            .POST, key: key, query: [("uploadId", uploadID)], payload: .bytes(ByteBuffer(bytes: body)))
        // Ceph RGW 16 answers an empty <ETag/>; only an <Error> body means failure.
        _ = try await collectXML(response)
    }

    /// Drops an upload and its parts; an upload already gone is fine.
    public func abortMultipartUpload(key: String, uploadID: String) async throws {
        do {
            _ = try await send(.DELETE, key: key, query: [("uploadId", uploadID)])
        } catch let error as S3Error where error.isNotFound {
            return
        }
    }

    /// The parts the server holds for an upload, in number order (every page).
    public func listParts(key: String, uploadID: String) async throws -> [S3Part] {
        var parts: [S3Part] = []
        var marker: Int?
        repeat {
            var query = [("uploadId", uploadID), ("max-parts", "1000")]
            if let marker { query.append(("part-number-marker", String(marker))) }
            let response = try await send(.GET, key: key, query: query)
            let result = try S3XML.decode(S3XML.ListPartsResult.self, from: try await collectXML(response))
            parts += (result.Part ?? []).map { S3Part(number: $0.PartNumber, etag: Self.unquote($0.ETag), size: $0.Size) }
            marker = result.IsTruncated == true ? result.NextPartNumberMarker : nil
        } while marker != nil
        return parts
    }

    /// Uploads started under `prefix` and not yet completed or aborted (one page of up to 1,000).
    public func listMultipartUploads(prefix: String) async throws -> [S3MultipartUpload] {
        let response = try await send(.GET, key: nil, query: [("uploads", ""), ("prefix", prefix)])
        let result = try S3XML.decode(S3XML.ListMultipartUploadsResult.self, from: try await collectXML(response))
        return (result.Upload ?? []).map { S3MultipartUpload(key: $0.Key, uploadID: $0.UploadId) }
    }
}
