import Foundation
import NIOCore
import RegistryCore
import RegistryService
import RegistryStorage
import Testing

/// The registry's rules, over real stores in a temporary folder.
@Suite struct RegistryServiceTests {
    func service(_ configure: (inout RegistryRules) -> Void = { _ in }) async throws -> RegistryService {
        var configuration = RegistryConfiguration()
        configuration.storage.rootDirectory = NSTemporaryDirectory() + "berth-service-" + UUID().uuidString
        var rules = RegistryRules(configuration)
        configure(&rules)
        return RegistryService(stores: try await RegistryStores.open(configuration), rules: rules)
    }

    let name = try! RepositoryName("team/app")

    func body(_ text: String) -> Body { Body(chunks: [ByteBuffer(string: text)]) }

    @Test func readOnlyRefusesEveryWriteAndServesReads() async throws {
        let writable = try await service { $0.deleteEnabled = true }
        let digest = try await writable.uploadWhole(body("x"), length: 1, digest: DigestHasher.digest(of: [UInt8(ascii: "x")]).description, in: name)
        let readOnly = RegistryService(blobs: writable.blobs, metadata: writable.metadata, rules: {
            var rules = writable.rules
            rules.readOnly = true
            return rules
        }())
        func refused(_ write: () async throws -> Void) async {
            await #expect { try await write() } throws: { ($0 as? RegistryError)?.code == .unsupported }
        }
        await refused { _ = try await readOnly.startUpload(in: name, mount: nil, from: nil) }
        await refused { _ = try await readOnly.uploadWhole(body("y"), length: 1, digest: digest.description, in: name) }
        await refused { _ = try await readOnly.pushManifest([], contentType: nil, reference: "v1", in: name) }
        await refused { try await readOnly.deleteManifest("v1", in: name) }
        await refused { _ = try await readOnly.deleteBlob(digest.description, in: name) }
        #expect(try await readOnly.blob(digest.description, in: name).size == 1)
    }

    @Test func deletesNeedDeleteEnabled() async throws {
        let service = try await service()
        await #expect { try await service.deleteManifest("v1", in: name) } throws: {
            ($0 as? RegistryError)?.code == .unsupported
        }
        // A malformed reference is refused as such first.
        await #expect { try await service.deleteManifest("sha256:zz", in: name) } throws: {
            ($0 as? RegistryError)?.code == .digestInvalid
        }
    }

    @Test func aMountThatCannotBeMadeStartsAnUpload() async throws {
        let service = try await service()
        let content = Array("layer".utf8)
        let digest = try await service.uploadWhole(
            Body(chunks: [ByteBuffer(bytes: content)]), length: 5, digest: DigestHasher.digest(of: content).description,
            in: name)
        #expect(try await service.startUpload(in: try RepositoryName("b"), mount: digest.description, from: name.value) == .mounted(digest))
        guard case .started = try await service.startUpload(in: try RepositoryName("c"), mount: digest.description, from: "nowhere")
        else { Issue.record("a mount from a repository without the blob did not start an upload"); return }
        // Without `from`, only berth.mount.anywhere mounts.
        guard case .started = try await service.startUpload(in: try RepositoryName("d"), mount: digest.description, from: nil)
        else { Issue.record("mounted without from while mount.anywhere is off"); return }
        var anywhere = service.rules
        anywhere.mountAnywhere = true
        let open = RegistryService(blobs: service.blobs, metadata: service.metadata, rules: anywhere)
        #expect(try await open.startUpload(in: try RepositoryName("e"), mount: digest.description, from: nil) == .mounted(digest))
    }

    @Test func referencesThatCannotExistAreUnknownToReads() async throws {
        let service = try await service()
        for reference in [".INVALID_MANIFEST_NAME", "sha256:abc", "md5:00", String(repeating: "t", count: 200)] {
            await #expect { _ = try await service.manifest(reference, in: name) } throws: {
                ($0 as? RegistryError)?.code == .manifestUnknown
            }
        }
        await #expect { _ = try await service.blob("sha256:abc", in: name) } throws: {
            ($0 as? RegistryError)?.code == .blobUnknown
        }
        await #expect { _ = try await service.pushManifest(Array("{}".utf8), contentType: nil, reference: ".bad", in: name) } throws: {
            ($0 as? RegistryError)?.code == .tagInvalid
        }
    }

    @Test func pagesAreCappedAndLinked() async throws {
        let service = try await service { $0.maximumPageSize = 2 }
        for repository in ["a", "b", "c"] {
            _ = try await service.uploadWhole(
                body(repository), length: 1, digest: DigestHasher.digest(of: Array(repository.utf8)).description,
                in: try RepositoryName(repository))
        }
        let page = try await service.catalog(page: PageRequest(size: 100))
        #expect(page.items == ["a", "b"])
        #expect(page.next == "b")
        #expect(try await service.catalog(page: PageRequest(size: 2, last: "b")).items == ["c"])
        await #expect { _ = try await service.tags(in: try RepositoryName("zzz"), page: PageRequest()) } throws: {
            ($0 as? RegistryError)?.code == .nameUnknown
        }
    }
}

struct Body: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [ByteBuffer]

    struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: [ByteBuffer]
        mutating func next() async throws -> ByteBuffer? { chunks.isEmpty ? nil : chunks.removeFirst() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks) }
}
