import Foundation
import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// Referrers and mounts without a source, on a real SQLite file.
@Suite struct ReferrersStorageTests {
    let root = NSTemporaryDirectory() + "berth-referrers-" + UUID().uuidString

    func open() throws -> (SQLiteMetadataStore, BlobUploads) {
        let blobs = try FilesystemBlobStore(root: root)
        let metadata = try SQLiteMetadataStore(path: root + "/registry.db")
        return (metadata, BlobUploads(blobs: blobs, metadata: metadata))
    }

    func artifact(_ type: String, subject: Digest, config: Digest) throws -> Manifest {
        try Manifest(
            bytes: Array(
                """
                {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"\(type)",\
                "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\(config)","size":2},"layers":[],\
                "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(subject)","size":3}}
                """.utf8), contentType: nil)
    }

    @Test func referrersAreListedAndFilteredBeforeTheSubjectExists() async throws {
        let (metadata, uploads) = try open()
        let repository = try RepositoryName("app")
        let config = DigestHasher.digest(of: Array("{}".utf8))
        _ = try await uploads.uploadWhole(
            to: repository, digest: config, body: RequestChunks(chunks: [ByteBuffer(string: "{}")]), length: 2)
        let subject = DigestHasher.digest(of: Array("not pushed".utf8))
        let sbom = try artifact("application/vnd.example.sbom", subject: subject, config: config)
        let signature = try artifact("application/vnd.example.signature", subject: subject, config: config)
        try await metadata.putManifest(sbom, in: repository, tag: nil)
        try await metadata.putManifest(signature, in: repository, tag: nil)

        let all = try await metadata.referrers(of: subject, in: repository, artifactType: nil)
        #expect(all.map(\.digest) == [sbom.digest, signature.digest])
        let filtered = try await metadata.referrers(
            of: subject, in: repository, artifactType: "application/vnd.example.signature")
        #expect(filtered.map(\.digest) == [signature.digest])
        #expect(filtered.first?.bytes == signature.bytes)
        #expect(try await metadata.referrers(of: config, in: repository, artifactType: nil).isEmpty)
        #expect(try await metadata.referrers(of: subject, in: RepositoryName("other"), artifactType: nil).isEmpty)

        // Through the cache, and after the referrer is deleted.
        let cached = CachedMetadataStore(metadata, changes: nil)
        #expect(try await cached.referrers(of: subject, in: repository, artifactType: nil).count == 2)
        #expect(try await cached.deleteManifest(sbom.digest, in: repository))
        #expect(try await cached.referrers(of: subject, in: repository, artifactType: nil).map(\.digest) == [signature.digest])
        try metadata.close()
    }

    @Test func mountFromAnyRepositoryNeedsSomeRepositoryToHaveTheBlob() async throws {
        let (metadata, uploads) = try open()
        let source = try RepositoryName("team/source")
        let target = try RepositoryName("team/target")
        let digest = DigestHasher.digest(of: Array("layer".utf8))
        #expect(try await !metadata.mountBlobFromAnyRepository(digest, into: target))
        #expect(try await metadata.repositories(after: nil, limit: nil) == [])
        _ = try await uploads.uploadWhole(
            to: source, digest: digest, body: RequestChunks(chunks: [ByteBuffer(string: "layer")]), length: 5)
        #expect(try await CachedMetadataStore(metadata, changes: nil).mountBlobFromAnyRepository(digest, into: target))
        #expect(try await metadata.blobSize(digest, in: target) == 5)
        #expect(try await metadata.unlinkBlob(digest, from: source))
        #expect(try await metadata.unlinkBlob(digest, from: target))
        #expect(try await !metadata.mountBlobFromAnyRepository(digest, into: try RepositoryName("third")))
        try metadata.close()
    }
}
