import Testing

@testable import RegistryCore

@Suite struct ManifestTests {
    static let config = "sha256:" + String(repeating: "1", count: 64)
    static let layer = "sha256:" + String(repeating: "2", count: 64)

    static func image(mediaType: String? = MediaType.ociManifest, schemaVersion: Int = 2, extra: String = "") -> [UInt8] {
        let type = mediaType.map { "\"mediaType\":\"\($0)\"," } ?? ""
        return Array(
            """
            {"schemaVersion":\(schemaVersion),\(type)"config":{"mediaType":"application/vnd.oci.image.config.v1+json",\
            "digest":"\(config)","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar",\
            "digest":"\(layer)","size":20}]\(extra)}
            """.utf8)
    }

    @Test func parsesAnOCIImageManifest() throws {
        let bytes = Self.image()
        let manifest = try Manifest(bytes: bytes, contentType: MediaType.ociManifest)
        #expect(manifest.kind == .image)
        #expect(manifest.mediaType == MediaType.ociManifest)
        #expect(manifest.blobReferences.map(\.digest.description) == [Self.config, Self.layer])
        #expect(manifest.blobReferences.map(\.size) == [10, 20])
        #expect(manifest.digest == DigestHasher.digest(of: bytes))
        #expect(manifest.bytes == bytes)
        #expect(manifest.artifactType == "application/vnd.oci.image.config.v1+json")
    }

    @Test func takesTheMediaTypeFromTheBodyWhenContentTypeIsGeneric() throws {
        let manifest = try Manifest(bytes: Self.image(), contentType: "application/json")
        #expect(manifest.mediaType == MediaType.ociManifest)
        let docker = try Manifest(bytes: Self.image(mediaType: MediaType.dockerManifest), contentType: nil)
        #expect(docker.mediaType == MediaType.dockerManifest)
    }

    @Test func parsesAnIndexWithASubject() throws {
        let child = "sha256:" + String(repeating: "3", count: 64)
        let bytes = Array(
            """
            {"schemaVersion":2,"mediaType":"\(MediaType.ociIndex)","manifests":[{"mediaType":"\(MediaType.ociManifest)",\
            "digest":"\(child)","size":5,"platform":{"os":"linux","architecture":"amd64"}}],\
            "subject":{"mediaType":"\(MediaType.ociManifest)","digest":"\(Self.config)","size":3}}
            """.utf8)
        let manifest = try Manifest(bytes: bytes, contentType: MediaType.ociIndex)
        #expect(manifest.kind == .index)
        #expect(manifest.children.map(\.digest.description) == [child])
        #expect(manifest.blobReferences.isEmpty)
        #expect(manifest.subject?.digest.description == Self.config)
    }

    @Test func refusesBadManifests() {
        func code(_ bytes: [UInt8], _ type: String?) -> ErrorCode? {
            do {
                _ = try Manifest(bytes: bytes, contentType: type)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(Array("not json".utf8), MediaType.ociManifest) == .manifestInvalid)
        #expect(code(Self.image(schemaVersion: 1), MediaType.ociManifest) == .manifestInvalid)
        #expect(code(Self.image(schemaVersion: 3), MediaType.ociManifest) == .manifestInvalid)
        #expect(code(Self.image(), MediaType.dockerManifest) == .manifestInvalid)
        #expect(code(Self.image(), MediaType.dockerManifestSchema1Signed) == .manifestInvalid)
        #expect(code(Self.image(), "text/plain") == .manifestInvalid)
        #expect(code(Array(#"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)"}"#.utf8), nil) == .manifestInvalid)
        let badDigest = Array(
            #"{"schemaVersion":2,"config":{"digest":"sha256:XYZ","size":1},"layers":[]}"#.utf8)
        #expect(code(badDigest, MediaType.ociManifest) == .manifestInvalid)
        let negative = Array(
            #"{"schemaVersion":2,"config":{"digest":"\#(Self.config)","size":-1},"layers":[]}"#.utf8)
        #expect(code(negative, MediaType.ociManifest) == .manifestInvalid)
        let deep = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(code(deep, MediaType.ociManifest) == .manifestInvalid)
    }

    @Test func refusesBodiesOverFourMiB() {
        let big = Self.image(extra: ",\"annotations\":{\"x\":\"" + String(repeating: "a", count: 4 * 1024 * 1024) + "\"}")
        do {
            _ = try Manifest(bytes: big, contentType: MediaType.ociManifest)
            Issue.record("accepted a manifest over 4 MiB")
        } catch {
            #expect(error.code == .sizeInvalid)
            #expect(error.condition == .tooLarge)
        }
    }
}
