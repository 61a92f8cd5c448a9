import Foundation
import Testing

@testable import RegistryCore

@Suite struct ReferrersIndexTests {
    static let empty = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    static let subject = "sha256:" + String(repeating: "5", count: 64)

    static func artifact(artifactType: String? = "application/vnd.example.sbom", annotations: String = "") -> [UInt8] {
        let type = artifactType.map { "\"artifactType\":\"\($0)\"," } ?? ""
        return Array(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\(type)\
            "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"\(empty)","size":2},\
            "layers":[{"mediaType":"text/spdx","digest":"\(empty)","size":2}],\
            "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(subject)","size":7}\
            \(annotations)}
            """.utf8)
    }

    @Test func descriptorCarriesArtifactTypeAndAnnotations() throws {
        let manifest = try Manifest(
            bytes: Self.artifact(annotations: #","annotations":{"org.example.kind":"sbom"}"#), contentType: nil)
        let descriptor = ReferrersIndex.descriptor(of: manifest)
        #expect(descriptor.digest == manifest.digest)
        #expect(descriptor.size == Int64(manifest.bytes.count))
        #expect(descriptor.mediaType == MediaType.ociManifest)
        #expect(descriptor.artifactType == "application/vnd.example.sbom")
        #expect(descriptor.annotations == ["org.example.kind": "sbom"])
        #expect(manifest.subject?.digest.description == Self.subject)
    }

    @Test func artifactTypeFallsBackToTheConfigMediaType() throws {
        let manifest = try Manifest(bytes: Self.artifact(artifactType: nil), contentType: nil)
        #expect(ReferrersIndex.descriptor(of: manifest).artifactType == MediaType.ociEmpty)
    }

    @Test func rendersAnOCIIndex() throws {
        let manifest = try Manifest(bytes: Self.artifact(annotations: #","annotations":{"a":"b/c"}"#), contentType: nil)
        let body = ReferrersIndex.render([ReferrersIndex.descriptor(of: manifest)])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["schemaVersion"] as? Int == 2)
        #expect(json["mediaType"] as? String == MediaType.ociIndex)
        let entries = try #require(json["manifests"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries[0]["digest"] as? String == manifest.digest.description)
        #expect(entries[0]["artifactType"] as? String == "application/vnd.example.sbom")
        #expect(entries[0]["annotations"] as? [String: String] == ["a": "b/c"])
        #expect(String(decoding: body, as: UTF8.self).contains("b/c"))
    }

    @Test func rendersAnEmptyIndex() throws {
        let body = String(decoding: ReferrersIndex.render([]), as: UTF8.self)
        #expect(body == #"{"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#)
    }
}

@Suite struct ExternalLayerTests {
    static let config = "sha256:" + String(repeating: "1", count: 64)
    static let local = "sha256:" + String(repeating: "2", count: 64)
    static let foreign = "sha256:" + String(repeating: "3", count: 64)

    static func manifest(urls: [String]) throws -> Manifest {
        let list = urls.map { "\"\($0)\"" }.joined(separator: ",")
        return try Manifest(
            bytes: Array(
                """
                {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",\
                "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"\(config)","size":10},\
                "layers":[{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",\
                "digest":"\(foreign)","size":30,"urls":[\(list)]},\
                {"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"\(local)","size":20}]}
                """.utf8), contentType: nil)
    }

    @Test func externalLayersAreRequiredUntilTrusted() throws {
        let manifest = try Self.manifest(urls: ["https://example.com/layer.tar.gz"])
        #expect(manifest.externalLayers.map(\.digest.description) == [Self.foreign])
        #expect(manifest.blobReferences.map(\.digest.description) == [Self.config, Self.foreign, Self.local])
        let trusted = try manifest.trustingExternalLayers()
        #expect(trusted.blobReferences.map(\.digest.description) == [Self.config, Self.local])
        #expect(trusted.digest == manifest.digest)
    }

    @Test(arguments: ["ftp://example.com/x", "/relative/path", "https://example.com/x#frag", "not a url", "https://"])
    func badURLsAreRefused(url: String) throws {
        let manifest = try Self.manifest(urls: [url])
        #expect(throws: RegistryError.self) { try manifest.trustingExternalLayers() }
    }
}
