import Foundation
import NIOCore
import Testing

@testable import S3Client

/// Multipart uploads against a real S3 server: what the blob store builds resumable,
/// any-node uploads on.
@Suite(.enabled(if: S3TestServer.isConfigured)) struct S3ClientMultipartTests {
    func bytes(_ count: Int, seed: UInt8) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed)) })
    }

    @Test func partsListedResumedAndCompleted() async throws {
        let s3 = try await S3TestServer.client()
        let first = bytes(Int(S3Client.minimumPartSize), seed: 1)
        let last = bytes(1234, seed: 2)
        let upload = try await s3.createMultipartUpload(key: "blob")
        #expect(try await s3.listMultipartUploads(prefix: "").contains(S3MultipartUpload(key: "blob", uploadID: upload)))
        let part1 = try await s3.uploadPart(key: "blob", uploadID: upload, number: 1, payload: .bytes(first))
        // Another node resumes from what the server holds, not from memory.
        let held = try await s3.listParts(key: "blob", uploadID: upload)
        #expect(held == [part1])
        let part2 = try await s3.uploadPart(key: "blob", uploadID: upload, number: 2, payload: .bytes(last))
        try await s3.completeMultipartUpload(key: "blob", uploadID: upload, parts: [part2, part1])
        let info = try #require(try await s3.headObject(key: "blob"))
        #expect(info.size == Int64(first.readableBytes + last.readableBytes))
        #expect(info.etag?.hasSuffix("-2") == true)
        var expected = first
        var tail = last
        expected.writeBuffer(&tail)
        #expect(try await s3.getObjectBytes(key: "blob") == expected)
        #expect(try await s3.listMultipartUploads(prefix: "").isEmpty)
    }

    @Test func smallPartsBeforeTheLastAreRefusedAtCompletion() async throws {
        let s3 = try await S3TestServer.client()
        let upload = try await s3.createMultipartUpload(key: "tiny")
        let a = try await s3.uploadPart(key: "tiny", uploadID: upload, number: 1, payload: .bytes(bytes(10, seed: 1)))
        let b = try await s3.uploadPart(key: "tiny", uploadID: upload, number: 2, payload: .bytes(bytes(10, seed: 2)))
        let error = await #expect(throws: S3Error.self) {
            try await s3.completeMultipartUpload(key: "tiny", uploadID: upload, parts: [a, b])
        }
        #expect(error?.code == "EntityTooSmall")
        try await s3.abortMultipartUpload(key: "tiny", uploadID: upload)
        #expect(try await s3.headObject(key: "tiny") == nil)
        let gone = await #expect(throws: S3Error.self) { _ = try await s3.listParts(key: "tiny", uploadID: upload) }
        // AWS says NoSuchUpload, Ceph RGW NoSuchKey: both are "not found".
        #expect(gone?.isNotFound == true)
        // Aborting twice is fine.
        try await s3.abortMultipartUpload(key: "tiny", uploadID: upload)
    }

    @Test func partsCopiedServerSide() async throws {
        let s3 = try await S3TestServer.client()
        let source = bytes(Int(S3Client.minimumPartSize) + 100, seed: 9)
        try await s3.putObject(key: "staged", payload: .bytes(source))
        let upload = try await s3.createMultipartUpload(key: "final")
        let head = try await s3.uploadPartCopy(
            key: "final", uploadID: upload, number: 1, source: "staged", range: 0...(S3Client.minimumPartSize - 1))
        #expect(head.size == S3Client.minimumPartSize)
        let rest = try await s3.uploadPartCopy(
            key: "final", uploadID: upload, number: 2, source: "staged",
            range: S3Client.minimumPartSize...(Int64(source.readableBytes) - 1))
        try await s3.completeMultipartUpload(key: "final", uploadID: upload, parts: [head, rest])
        #expect(try await s3.getObjectBytes(key: "final") == source)
    }
}
