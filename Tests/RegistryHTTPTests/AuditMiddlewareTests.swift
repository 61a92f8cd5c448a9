import Foundation
import Testing

@testable import RegistryHTTP

/// The user name a refused request claimed: HTTP Basic's user or a bearer token's `sub`,
/// never the secret that came with it.
@Suite struct AuditClaimedUserTests {
    func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func basicGivesTheUserWithoutThePassword() {
        let header = "Basic " + Data("alice:s3cret:with:colons".utf8).base64EncodedString()
        #expect(AuditMiddleware.claimedUser(header) == "alice")
    }

    @Test func bearerGivesTheUnverifiedSubject() {
        let token = [base64URL(#"{"alg":"ES256"}"#), base64URL(#"{"sub":"bob","iss":"x"}"#), "c2lnbmF0dXJl"]
            .joined(separator: ".")
        #expect(AuditMiddleware.claimedUser("Bearer " + token) == "bob")
    }

    @Test(arguments: ["Bearer not-a-jwt", "Bearer a.b.c", "Digest x", "Basic !!!", "Basic " + Data(":pw".utf8).base64EncodedString()])
    func anythingElseGivesNoName(_ header: String) {
        #expect(AuditMiddleware.claimedUser(header) == nil)
    }

    @Test func longNamesAreCut() {
        let header = "Basic " + Data((String(repeating: "u", count: 1000) + ":pw").utf8).base64EncodedString()
        #expect(AuditMiddleware.claimedUser(header)?.count == 256)
    }
}
