import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// What HEAD tells about an object.
public struct S3ObjectInfo: Sendable, Equatable {
    public var size: Int64
    /// The ETag without quotes: the MD5 of a simple object, `<md5>-<parts>` of a multipart one.
    public var etag: String?
    public var contentType: String?
}

/// An object being read: what HEAD would say, and its bytes as they arrive.
public struct S3ObjectStream: Sendable {
    public var info: S3ObjectInfo
    /// The bytes of the object, or of the requested range.
    public var body: HTTPClientResponse.Body
}

extension S3Client {
    /// Stores an object in one request (up to 5 GiB; larger objects need a multipart upload).
    @discardableResult
    public func putObject(key: String, payload: Payload, contentType: String? = nil) async throws -> String? {
        var headers: [(String, String)] = []
        if let contentType { headers.append(("content-type", contentType)) }
        if let storageClass = configuration.storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        let response = try await send(.PUT, key: key, headers: headers, payload: payload)
        return Self.etag(response.headers)
    }

    /// What the object is, or nil when there is none.
    public func headObject(key: String) async throws -> S3ObjectInfo? {
        do {
            let response = try await send(.HEAD, key: key)
            return Self.info(response.headers, size: nil)
        } catch let error as S3Error where error.isNotFound {
            return nil
        }
    }

    /// Reads an object, or the bytes `range` names (inclusive bounds, as HTTP's Range header).
    /// Throws ``S3Error`` with `isNotFound` when the object does not exist.
    public func getObject(key: String, range: ClosedRange<Int64>? = nil) async throws -> S3ObjectStream {
        var headers: [(String, String)] = []
        if let range { headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send(.GET, key: key, headers: headers)
        return S3ObjectStream(info: Self.info(response.headers, size: nil), body: response.body)
    }

    /// Reads a whole object into memory: for small objects only (metadata, markers).
    public func getObjectBytes(key: String, limit: Int = 64 << 20) async throws -> ByteBuffer {
        try await getObject(key: key).body.collect(upTo: limit)
    }

    /// Removes an object; removing one that does not exist succeeds, as in S3.
    public func deleteObject(key: String) async throws {
        do {
            _ = try await send(.DELETE, key: key)
        } catch let error as S3Error where error.isNotFound && error.code != "NoSuchBucket" {
            return
        }
    }

    /// Removes up to 1,000 objects in one request; returns the keys that could not be removed.
    @discardableResult
    public func deleteObjects(keys: [String]) async throws -> [String: S3Error] {
        var failures: [String: S3Error] = [:]
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)]
            let body = try S3XML.encode(
                S3XML.Delete(Quiet: true, Object: batch.map { .init(Key: $0) }), root: "Delete")
            let md5 = Data(Insecure_MD5.digest(body)).base64EncodedString()
            let response = try await send(
                .POST, key: nil, query: [("delete", "")], headers: [("content-md5", md5)],
                payload: .bytes(ByteBuffer(bytes: body)))
            let result = try S3XML.decode(S3XML.DeleteResult.self, from: try await collectXML(response))
            for failure in result.Error ?? [] {
                failures[failure.Key] = S3Error(code: failure.Code, status: 200, message: failure.Message ?? "")
            }
        }
        return failures
    }

    /// Copies an object inside the bucket, server-side (up to 5 GiB in one request).
    public func copyObject(from source: String, to destination: String) async throws {
        let response = try await send(
            .PUT, key: destination, headers: [("x-amz-copy-source", copySource(source))])
        _ = try await collectXML(response)
    }

    /// The `x-amz-copy-source` value naming a key of this bucket.
    func copySource(_ key: String) -> String {
        "/" + S3URIEncoding.path(configuration.bucket) + "/" + S3URIEncoding.path(key)
    }

    /// Creates the bucket (for tests and `registryctl`); an existing bucket of ours is fine.
    public func createBucket() async throws {
        do {
            _ = try await send(.PUT, key: nil)
        } catch let error as S3Error where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Whether the bucket exists and these credentials reach it.
    public func headBucket() async throws {
        _ = try await send(.HEAD, key: nil)
    }

    static func etag(_ headers: HTTPHeaders) -> String? {
        headers.first(name: "etag").map(unquote)
    }

    static func unquote(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    static func info(_ headers: HTTPHeaders, size: Int64?) -> S3ObjectInfo {
        let length = headers.first(name: "content-length").flatMap { Int64($0) } ?? 0
        return S3ObjectInfo(size: size ?? length, etag: etag(headers), contentType: headers.first(name: "content-type"))
    }
}
