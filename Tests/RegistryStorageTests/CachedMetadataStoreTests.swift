import Foundation
import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The cache in front of a real SQLite store: a client always reads its own writes.
@Suite struct CachedMetadataStoreTests {
    @Test func readsOwnWritesThroughTheCache() async throws {
        let root = NSTemporaryDirectory() + "berth-cache-" + UUID().uuidString
        let blobs = try FilesystemBlobStore(root: root)
        let sqlite = try SQLiteMetadataStore(path: root + "/registry.db")
        let cached = CachedMetadataStore(sqlite, changes: FileChangeNotifier(root: root))
        let uploads = BlobUploads(blobs: blobs, metadata: cached)
        let repository = try RepositoryName("app")
        let tag = try Tag("v1")

        func manifest(config text: String) async throws -> Manifest {
            let digest = DigestHasher.digest(of: Array(text.utf8))
            _ = try await uploads.uploadWhole(
                to: repository, digest: digest, body: RequestChunks(chunks: [ByteBuffer(string: text)]),
                length: Int64(text.utf8.count))
            return try Manifest(
                bytes: Array(
                    """
                    {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"a",\
                    "digest":"\(digest)","size":\(text.utf8.count)},"layers":[]}
                    """.utf8), contentType: nil)
        }

        let first = try await manifest(config: "{\"a\":1}")
        let second = try await manifest(config: "{\"a\":2}")
        try await cached.putManifest(first, in: repository, tag: tag)
        #expect(try await cached.manifest(.tag(tag), in: repository)?.digest == first.digest)
        try await cached.putManifest(second, in: repository, tag: tag)
        #expect(try await cached.manifest(.tag(tag), in: repository)?.digest == second.digest)
        #expect(try await cached.deleteManifest(second.digest, in: repository))
        #expect(try await cached.manifest(.tag(tag), in: repository) == nil)
        #expect(try await cached.manifest(.digest(second.digest), in: repository) == nil)

        let configDigest = try #require(first.config?.digest)
        #expect(try await cached.blobSize(configDigest, in: repository) == 7)
        #expect(try await cached.unlinkBlob(configDigest, from: repository))
        #expect(try await cached.blobSize(configDigest, in: repository) == nil)
    }
}
