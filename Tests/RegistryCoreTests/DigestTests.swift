import Foundation
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
            #expect(error.condition == nil)
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

    @Test func savedStateResumesWhereItStopped() throws {
        for algorithm in DigestAlgorithm.allCases {
            let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var first = DigestHasher(algorithm)
            first.update(bytes: bytes[..<123_457])
            // Through JSON, as a metadata store keeps it.
            let saved = try JSONDecoder().decode(
                DigestHasher.SavedState.self, from: try JSONEncoder().encode(first.savedState))
            var resumed = try #require(DigestHasher(resuming: saved))
            resumed.update(bytes: bytes[123_457...])
            #expect(resumed.finalize() == DigestHasher.digest(of: bytes, algorithm: algorithm))
        }
    }

    @Test func stateOfAnotherLayoutIsNotResumed() {
        var saved = DigestHasher().savedState
        saved.layout = "openssl-sha2-32bit-be-0-0"
        #expect(DigestHasher(resuming: saved) == nil)
        saved = DigestHasher().savedState
        saved.context.removeLast()
        #expect(DigestHasher(resuming: saved) == nil)
    }

    @Test func sha512KnownVector() {
        #expect(
            DigestHasher.digest(of: Array("abc".utf8), algorithm: .sha512).hex
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
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
