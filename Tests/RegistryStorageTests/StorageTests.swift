import Foundation
import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// Storage against a real temporary folder and a real SQLite file.
@Suite struct StorageTests {
    let root: String
    let repository: RepositoryName

    init() throws {
        root = NSTemporaryDirectory() + "berth-storage-" + UUID().uuidString
        repository = try RepositoryName("team/app")
    }

    func open() throws -> (FilesystemBlobStore, SQLiteMetadataStore, BlobUploads) {
        let blobs = try FilesystemBlobStore(root: root)
        let metadata = try SQLiteMetadataStore(path: root + "/registry.db")
        return (blobs, metadata, BlobUploads(blobs: blobs, metadata: metadata))
    }

    func body(_ text: String) -> RequestChunks { RequestChunks(chunks: [ByteBuffer(string: text)]) }

    func stagedFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root + "/uploads")
    }

    /// Regression: GRDB's pool set `synchronous = NORMAL` on the writer after our
    /// `prepareDatabase` asked for FULL, so commits did not fsync the WAL.
    @Test func writerCommitsWithSynchronousFull() throws {
        let (_, metadata, _) = try open()
        #expect(try metadata.writerSynchronousMode() == 2)
        try metadata.close()
    }

    @Test func chunkedUploadSurvivesARestart() async throws {
        let digest = DigestHasher.digest(of: Array("hello world".utf8))
        var (blobs, metadata, uploads) = try open()
        let id = try await uploads.start(in: repository)
        #expect(try await uploads.append(id, in: repository, body: body("hello "), start: 0, length: 6) == 6)
        try metadata.close()

        (blobs, metadata, uploads) = try open()  // hash state must be rebuilt from disk
        #expect(try await uploads.size(of: id, in: repository) == 6)
        let size = try await uploads.finish(id, in: repository, digest: digest, body: body("world"), length: 5)
        #expect(size == 11)
        #expect(try await metadata.blobSize(digest, in: repository) == 11)
        #expect(try await blobs.size(of: digest) == 11)
        #expect(try stagedFiles().isEmpty)
        #expect(try await metadata.upload(id: id) == nil)
    }

    @Test func outOfOrderChunkIsRefusedAndChangesNothing() async throws {
        let (_, _, uploads) = try open()
        let id = try await uploads.start(in: repository)
        _ = try await uploads.append(id, in: repository, body: body("abc"), start: nil, length: nil)
        await #expect(throws: RegistryError.self) {
            _ = try await uploads.append(id, in: repository, body: body("xyz"), start: 10, length: 3)
        }
        #expect(try await uploads.size(of: id, in: repository) == 3)
    }

    @Test func digestMismatchLeavesNothingBehind() async throws {
        let (blobs, metadata, uploads) = try open()
        let claimed = DigestHasher.digest(of: Array("something else".utf8))
        let id = try await uploads.start(in: repository)
        do {
            _ = try await uploads.finish(id, in: repository, digest: claimed, body: body("hello"), length: nil)
            Issue.record("accepted mismatched content")
        } catch let error as RegistryError {
            #expect(error.code == .digestInvalid)
        }
        #expect(try await blobs.size(of: claimed) == nil)
        #expect(try await metadata.blobSize(claimed, in: repository) == nil)
        #expect(try stagedFiles().isEmpty)
        #expect(try await metadata.upload(id: id) == nil)
    }

    @Test func manifestWithAnUnknownBlobWritesNoRow() async throws {
        let (_, metadata, uploads) = try open()
        let config = Array("{}".utf8)
        let configDigest = DigestHasher.digest(of: config)
        _ = try await uploads.uploadWhole(to: repository, digest: configDigest, body: body("{}"), length: 2)
        let missing = "sha256:" + String(repeating: "9", count: 64)
        let bytes = Array(
            """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"a","digest":"\(configDigest)",\
            "size":2},"layers":[{"mediaType":"b","digest":"\(missing)","size":1}]}
            """.utf8)
        let manifest = try Manifest(bytes: bytes, contentType: nil)
        do {
            try await metadata.putManifest(manifest, in: repository, tag: try Tag("v1"))
            Issue.record("accepted a manifest with a missing layer")
        } catch let error as RegistryError {
            #expect(error.code == .manifestBlobUnknown)
        }
        #expect(try await metadata.manifest(.tag(Tag("v1")), in: repository) == nil)
        #expect(try await metadata.manifest(.digest(manifest.digest), in: repository) == nil)
    }

    @Test func tagsPointAtManifestsAndDeletesCascade() async throws {
        let (_, metadata, uploads) = try open()
        let configDigest = DigestHasher.digest(of: Array("{}".utf8))
        _ = try await uploads.uploadWhole(to: repository, digest: configDigest, body: body("{}"), length: 2)
        let bytes = Array(
            """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"a","digest":"\(configDigest)",\
            "size":2},"layers":[]}
            """.utf8)
        let manifest = try Manifest(bytes: bytes, contentType: nil)
        for tag in ["b", "a", "c"] {
            try await metadata.putManifest(manifest, in: repository, tag: try Tag(tag))
        }
        #expect(try await metadata.tags(in: repository, after: nil, limit: nil) == ["a", "b", "c"])
        #expect(try await metadata.tags(in: repository, after: "a", limit: 1) == ["b"])
        #expect(try await metadata.manifest(.tag(Tag("a")), in: repository)?.bytes == bytes)
        #expect(try await metadata.deleteTag(Tag("a"), in: repository))
        #expect(try await metadata.tags(in: repository, after: nil, limit: nil) == ["b", "c"])
        #expect(try await metadata.deleteManifest(manifest.digest, in: repository))
        #expect(try await metadata.tags(in: repository, after: nil, limit: nil) == [])
        #expect(try await metadata.tags(in: try RepositoryName("nope"), after: nil, limit: nil) == nil)
    }
}

/// A request body made of fixed chunks.
struct RequestChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [ByteBuffer]

    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let chunks: [ByteBuffer]
        mutating func next() async throws -> ByteBuffer? {
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks) }
}
