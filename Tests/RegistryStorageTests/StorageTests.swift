import Foundation
import GRDB
import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// What only the embedded stores (a folder and a SQLite file on one host) must do, beyond the
/// contract every store passes (Tests/StoreContractTests).
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
    @Test func writerCommitsWithSynchronousFull() async throws {
        let (blobs, metadata, _) = try open()
        #expect(try metadata.writerSynchronousMode() == 2)
        // Light writes (reservations, upload progress) turn it off for their own commit only.
        _ = try await metadata.reserveBlob(DigestHasher.digest(of: [1]))
        _ = try await blobs.beginUpload(id: "x")
        #expect(try metadata.writerSynchronousMode() == 2)
        try metadata.close()
    }

    @Test func chunkedUploadSurvivesARestart() async throws {
        let digest = DigestHasher.digest(of: Array("hello world".utf8))
        var (blobs, metadata, uploads) = try open()
        let id = try await uploads.start(in: repository)
        #expect(try await uploads.append(id, in: repository, body: body("hello "), start: 0, length: 6) == 6)
        try metadata.close()

        (blobs, metadata, uploads) = try open()  // the hash state comes back from the database
        #expect(try await metadata.upload(id: id)?.staged.size == 6)
        #expect(try await uploads.size(of: id, in: repository) == 6)
        let size = try await uploads.finish(id, in: repository, digest: digest, body: body("world"), length: 5)
        #expect(size == 11)
        #expect(try await metadata.blobSize(digest, in: repository) == 11)
        #expect(try await blobs.size(of: digest) == 11)
        #expect(try stagedFiles().isEmpty)
        #expect(try await metadata.upload(id: id) == nil)
    }

    /// The staging file is the truth: bytes that reached it after the recorded state (a
    /// crash between the write and the row) are counted and hashed again, and a session
    /// recorded before staged state was kept is rebuilt from its file.
    @Test func stagingFileWinsOverAStaleOrMissingState() async throws {
        let (_, metadata, uploads) = try open()
        let id = try await uploads.start(in: repository)
        _ = try await uploads.append(id, in: repository, body: body("hello "), start: nil, length: nil)
        let handle = try #require(FileHandle(forWritingAtPath: root + "/uploads/" + id))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("wor".utf8))
        try handle.close()
        #expect(try await uploads.size(of: id, in: repository) == 9)
        _ = try await uploads.append(id, in: repository, body: body("ld"), start: 9, length: 2)

        let legacy = try await uploads.start(in: repository)
        _ = try await uploads.append(legacy, in: repository, body: body("hello world"), start: nil, length: nil)
        try await metadata.pool.write { db in try db.execute(sql: "UPDATE upload SET staged = NULL WHERE id = ?", arguments: [legacy]) }
        let digest = DigestHasher.digest(of: Array("hello world".utf8))
        #expect(try await uploads.finish(legacy, in: repository, digest: digest, body: nil as RequestChunks?, length: nil) == 11)
        #expect(try await uploads.finish(id, in: repository, digest: digest, body: nil as RequestChunks?, length: nil) == 11)
    }

    /// A collector killed by SIGKILL after its sweep committed leaves rows gone and bytes
    /// queued; the next run deletes them, and nothing a kept manifest needs is touched.
    @Test func aCollectorKilledAfterItsSweepIsCompletedByTheNextRun() async throws {
        let root = self.root
        let (_, metadata, uploads) = try open()
        let config = Array("{}".utf8)
        let layer = Array("a layer only the untagged image has".utf8)
        for content in [config, layer] {
            _ = try await uploads.uploadWhole(
                to: repository, digest: DigestHasher.digest(of: content),
                body: RequestChunks(chunks: [ByteBuffer(bytes: content)]), length: nil)
        }
        let untagged = try Manifest(
            bytes: Array(
                """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"a",\
                "digest":"\(DigestHasher.digest(of: config))","size":2},"layers":[{"mediaType":"b",\
                "digest":"\(DigestHasher.digest(of: layer))","size":\(layer.count)}]}
                """.utf8), contentType: nil)
        try await metadata.putManifest(untagged, in: repository, tag: nil)
        try metadata.close()

        await #expect(processExitsWith: .signal(SIGKILL)) { [root = root as String] in
            let blobs = try FilesystemBlobStore(root: root)
            let metadata = try SQLiteMetadataStore(path: root + "/registry.db")
            _ = try await GarbageCollector(blobs: blobs, metadata: metadata, changes: nil).run(
                CollectionOptions(deleteUntagged: true, grace: .zero)
            ) { kill(getpid(), SIGKILL) }
        }

        let (blobs, reopened, _) = try open()
        #expect(try await reopened.manifest(.digest(untagged.digest), in: repository) == nil)
        #expect(try await blobs.size(of: DigestHasher.digest(of: layer)) != nil)
        let report = try await GarbageCollector(blobs: blobs, metadata: reopened, changes: nil)
            .run(CollectionOptions(grace: .zero))
        #expect(Set(report.blobs.map(\.digest)) == [DigestHasher.digest(of: layer).description, DigestHasher.digest(of: config).description])
        #expect(try await blobs.size(of: DigestHasher.digest(of: layer)) == nil)
        #expect(try await ConsistencyCheck(blobs: blobs, metadata: reopened, changes: nil).run(repair: false).isClean)
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
