import Testing

@testable import RegistryCore

@Suite struct NameAndTagTests {
    @Test(arguments: [
        "app", "team/app/api", "a.b", "a_b", "a__b", "a-b", "a---b", "library/ubuntu", "0", "a/b/c/d/e",
        String(repeating: "a", count: 255),
    ])
    func acceptsValidNames(_ name: String) throws {
        #expect(try RepositoryName(name).value == name)
    }

    @Test(arguments: [
        "", "App", "a..b", "a___b", ".a", "a.", "-a", "a-", "a//b", "/a", "a/", "..", "a/../b", "%2e%2e", "a b",
        "a/.b", "a_.b", "a:b", String(repeating: "a", count: 256),
    ])
    func rejectsInvalidNames(_ name: String) {
        do {
            _ = try RepositoryName(name)
            Issue.record("accepted \(name)")
        } catch {
            #expect(error.code == .nameInvalid)
        }
    }

    @Test(arguments: ["v3", "latest", "V1.2.3-rc_1", "_x", String(repeating: "t", count: 128)])
    func acceptsValidTags(_ tag: String) throws {
        #expect(try Tag(tag).value == tag)
    }

    @Test(arguments: ["", ".x", "-x", "a/b", "a:b", "a b", "é", String(repeating: "t", count: 129)])
    func rejectsInvalidTags(_ tag: String) {
        #expect(throws: RegistryError.self) { try Tag(tag) }
    }

    @Test func referenceDistinguishesTagsAndDigests() throws {
        #expect(try Reference(parsing: "v1") == .tag(Tag("v1")))
        let digest = "sha256:" + String(repeating: "0", count: 64)
        #expect(try Reference(parsing: digest) == .digest(Digest(parsing: digest)))
    }
}
