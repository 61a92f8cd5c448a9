import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import S3Client

/// Objects against a real S3 server (Ceph RGW from scripts/s3-server.sh).
@Suite(.enabled(if: S3TestServer.isConfigured)) struct S3ClientObjectTests {
    func bytes(_ count: Int, seed: UInt8 = 7) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    @Test func putHeadGetDelete() async throws {
        let s3 = try await S3TestServer.client()
        let body = bytes(100_000)
        let etag = try await s3.putObject(key: "docker/registry/v2/blobs/ab/cd/data", payload: .bytes(body))
        #expect(etag?.count == 32)
        let info = try #require(try await s3.headObject(key: "docker/registry/v2/blobs/ab/cd/data"))
        #expect(info.size == 100_000)
        #expect(info.etag == etag)
        let read = try await s3.getObjectBytes(key: "docker/registry/v2/blobs/ab/cd/data")
        #expect(read == body)
        try await s3.deleteObject(key: "docker/registry/v2/blobs/ab/cd/data")
        #expect(try await s3.headObject(key: "docker/registry/v2/blobs/ab/cd/data") == nil)
        // Deleting what is gone succeeds, as in S3.
        try await s3.deleteObject(key: "docker/registry/v2/blobs/ab/cd/data")
    }

    @Test func missingObjectIsNotFound() async throws {
        let s3 = try await S3TestServer.client()
        let error = await #expect(throws: S3Error.self) { _ = try await s3.getObject(key: "nope") }
        #expect(error?.code == "NoSuchKey")
        #expect(error?.isNotFound == true)
    }

    @Test func rangedReads() async throws {
        let s3 = try await S3TestServer.client()
        let body = bytes(4096)
        try await s3.putObject(key: "r", payload: .bytes(body))
        let part = try await s3.getObject(key: "r", range: 100...199)
        #expect(part.info.size == 100)
        let read = try await part.body.collect(upTo: 1 << 20)
        #expect(read == body.getSlice(at: 100, length: 100))
        let error = await #expect(throws: S3Error.self) { _ = try await s3.getObject(key: "r", range: 5000...5100) }
        #expect(error?.status == 416)
    }

    @Test func streamedBodyOfKnownLength() async throws {
        let s3 = try await S3TestServer.client()
        let chunk = bytes(1 << 20, seed: 3)
        let chunks = AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<12 { continuation.yield(chunk) }
            continuation.finish()
        }
        try await s3.putObject(key: "big", payload: .stream(.stream(chunks, length: .known(Int64(12 << 20))), length: 12 << 20))
        #expect(try await s3.headObject(key: "big")?.size == 12 << 20)
        var total = 0
        for try await piece in try await s3.getObject(key: "big").body {
            #expect(piece.readableBytesView.allSatisfy { _ in true })
            total += piece.readableBytes
        }
        #expect(total == 12 << 20)
    }

    @Test func keysWithUnusualCharacters() async throws {
        let s3 = try await S3TestServer.client()
        for key in ["a b/c+d=e", "ünï/cødé", "x/_state~1.json", "sha256:abc"] {
            try await s3.putObject(key: key, payload: .bytes(ByteBuffer(string: key)))
            #expect(String(buffer: try await s3.getObjectBytes(key: key)) == key)
        }
        let page = try await s3.listObjects(prefix: "")
        #expect(Set(page.objects.map(\.key)) == ["a b/c+d=e", "ünï/cødé", "x/_state~1.json", "sha256:abc"])
    }

    @Test func listingPagesAndDelimiters() async throws {
        let s3 = try await S3TestServer.client()
        for name in ["p/a/1", "p/a/2", "p/b/1", "p/c", "q/1"] {
            try await s3.putObject(key: name, payload: .bytes(ByteBuffer(string: name)))
        }
        let folders = try await s3.listObjects(prefix: "p/", delimiter: "/")
        #expect(folders.commonPrefixes == ["p/a/", "p/b/"])
        #expect(folders.objects.map(\.key) == ["p/c"])
        var keys: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await s3.listObjects(prefix: "p/", continuationToken: token, maxKeys: 2)
            keys += page.objects.map(\.key)
            token = page.continuationToken
            pages += 1
        } while token != nil
        #expect(keys == ["p/a/1", "p/a/2", "p/b/1", "p/c"])
        #expect(pages == 2)
        var streamed: [String] = []
        for try await object in s3.allObjects(prefix: "") { streamed.append(object.key) }
        #expect(streamed.count == 5)
    }

    @Test func copyAndBatchDelete() async throws {
        let s3 = try await S3TestServer.client()
        try await s3.putObject(key: "src", payload: .bytes(bytes(1000)))
        try await s3.copyObject(from: "src", to: "dst/copy")
        #expect(try await s3.getObjectBytes(key: "dst/copy") == bytes(1000))
        let failures = try await s3.deleteObjects(keys: ["src", "dst/copy", "never-there"])
        #expect(failures.isEmpty)
        #expect(try await s3.listObjects(prefix: "").objects.isEmpty)
    }

    @Test func presignedURLNeedsNoCredentialsAndCannotBeAltered() async throws {
        let s3 = try await S3TestServer.client()
        try await s3.putObject(key: "blobs/x y", payload: .bytes(ByteBuffer(string: "presigned bytes")))
        let url = try #require(s3.presignedURL(key: "blobs/x y", expires: .seconds(60)))
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(10))
        #expect(response.status.code == 200)
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "presigned bytes")
        let forged = url.absoluteString.replacingOccurrences(of: "X-Amz-Expires=60", with: "X-Amz-Expires=600")
        let refused = try await HTTPClient.shared.execute(HTTPClientRequest(url: forged), timeout: .seconds(10))
        #expect(refused.status.code == 403)
        let expired = try #require(
            s3.presignedURL(key: "blobs/x y", expires: .seconds(1), now: Date().addingTimeInterval(-3600)))
        let late = try await HTTPClient.shared.execute(HTTPClientRequest(url: expired.absoluteString), timeout: .seconds(10))
        #expect(late.status.code == 403)
    }

    @Test func wrongSecretIsRefused() async throws {
        let s3 = try await S3TestServer.client()
        var configuration = s3.configuration
        configuration.secretKey = "not-the-secret"
        let impostor = S3Client(configuration: configuration, httpClient: .shared)
        let error = await #expect(throws: S3Error.self) { try await impostor.putObject(key: "x", payload: .empty) }
        #expect(error?.status == 403)
        #expect(error?.code == "SignatureDoesNotMatch")
    }
}
