import Testing

@testable import RegistryCore

@Suite struct DescriptorStoredTests {
    let descriptor = Descriptor(
        mediaType: nil, digest: try! Digest(parsing: "sha256:" + String(repeating: "ab", count: 32)), size: 42)

    @Test func presentWithTheDeclaredSizePasses() throws {
        try descriptor.requireStored(size: 42, as: .blob)
    }

    @Test func absentIsUnknownNamingTheKind() {
        for kind in [Descriptor.StoredKind.blob, .manifest] {
            do {
                try descriptor.requireStored(size: nil, as: kind)
                Issue.record("an absent \(kind) passed")
            } catch let error as RegistryError {
                #expect(error.code == .manifestBlobUnknown)
                #expect(error.message == "\(kind.rawValue) unknown to repository")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test func anotherSizeIsAnInvalidManifest() {
        do {
            try descriptor.requireStored(size: 41, as: .manifest)
            Issue.record("a size mismatch passed")
        } catch let error as RegistryError {
            #expect(error.code == .manifestInvalid)
            #expect(error.message == "descriptor size does not match the stored manifest")
            #expect(error.detail?.contains("declared 42, stored 41") == true)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
