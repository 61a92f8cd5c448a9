import Testing

@testable import RegistryCore

@Suite struct DigestTests {
    let hex = String(repeating: "ab", count: 32)

    @Test func parsesSHA256() throws {
        let digest = try Digest(parsing: "sha256:\(hex)")
        #expect(digest.algorithm == .sha256)
        #expect(digest.hex == hex)
        #expect(digest.description == "sha256:\(hex)")
    }

    @Test func parsesSHA512() throws {
        let digest = try Digest(parsing: "sha512:" + String(repeating: "0f", count: 64))
        #expect(digest.algorithm == .sha512)
    }

    @Test(arguments: [
        "sha256:abc",  // too short
        "sha256:" + String(repeating: "AB", count: 32),  // upper case
        "sha256:" + String(repeating: "zz", count: 32),  // not hex
        "sha256:" + String(repeating: "ab", count: 33),  // too long
        "md5:" + String(repeating: "ab", count: 16),  // unknown algorithm
        "sha256" + String(repeating: "ab", count: 32),  // no colon
        "",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(throws: RegistryError.self) { try Digest(parsing: text) }
        do {
            _ = try Digest(parsing: text)
        } catch {
            #expect(error.code == .digestInvalid)
            #expect(error.status == 400)
        }
    }

    @Test func hasherMatchesKnownVectors() {
        #expect(
            DigestHasher.digest(of: Array("hello world".utf8)).description
                == "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        #expect(
            DigestHasher.digest(of: [UInt8]()).description
                == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hasherIsIncrementalAndForkable() {
        var hasher = DigestHasher()
        hasher.update(bytes: Array("hello ".utf8))
        let fork = hasher
        hasher.update(bytes: Array("world".utf8))
        #expect(hasher.finalize() == DigestHasher.digest(of: Array("hello world".utf8)))
        #expect(fork.finalize() == DigestHasher.digest(of: Array("hello ".utf8)))
    }
}
