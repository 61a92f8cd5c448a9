import Foundation
import JWTKit
import Logging
import RegistryCore

/// `auth.token`: bearer JWTs (RS256, ES256, ES384) signed by a key of a certificate in
/// `rootcertbundle`, with the configured issuer, `aud` equal to the service, inside
/// `nbf`/`exp`, granting the route's scopes in their `access` claim.
struct TokenAuthenticator: RequestAuthenticator {
    let settings: RegistryConfiguration.Token
    let keys: JWTKeyCollection
    /// `berth.access.anonymous` still lets clients without a token pull.
    let policy: AccessPolicy
    let logger: Logger
    /// Clock skew tolerated on `exp` and `nbf`.
    static let leeway: TimeInterval = 60

    /// Loads every certificate of the bundle; fails with an ``InvalidSetting`` naming the file.
    init(settings: RegistryConfiguration.Token, policy: AccessPolicy, logger: Logger) async throws {
        self.settings = settings
        self.policy = policy
        self.logger = logger
        keys = JWTKeyCollection()
        let bundle = settings.rootCertBundle
        guard let data = FileManager.default.contents(atPath: bundle) else {
            throw InvalidSetting(key: "auth.token.rootcertbundle", message: "cannot read \(bundle)")
        }
        let certificates = Self.certificateBlocks(String(decoding: data, as: UTF8.self))
        guard !certificates.isEmpty else {
            throw InvalidSetting(key: "auth.token.rootcertbundle", message: "\(bundle) holds no PEM certificate")
        }
        for (index, pem) in certificates.enumerated() {
            // A token's `kid` seldom names our label; verification then tries every key.
            let kid = JWKIdentifier(string: "rootcertbundle-\(index)")
            if let key = try? Insecure.RSA.PublicKey(certificatePEM: pem) {
                await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
            } else if let key = try? ES256PublicKey(certificate: pem) {
                await keys.add(ecdsa: key, kid: kid)
            } else if let key = try? ES384PublicKey(certificate: pem) {
                await keys.add(ecdsa: key, kid: kid)
            } else {
                throw InvalidSetting(
                    key: "auth.token.rootcertbundle",
                    message: "certificate \(index + 1) of \(bundle) is unreadable or has neither an RSA nor a P-256/P-384 key")
            }
        }
    }

    /// The `BEGIN CERTIFICATE` blocks of a PEM bundle.
    static func certificateBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var rest = text[...]
        while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"),
            let end = rest.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<rest.endIndex)
        {
            blocks.append(String(rest[begin.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return blocks
    }

    func decide(authorization: String?, scopes: [AccessScope]) async -> AccessDecision {
        guard let authorization, let token = bearerToken(authorization) else {
            if authorization == nil, !scopes.isEmpty, scopes.allSatisfy({ policy.allows(nil, $0) }) {
                return .allowed(user: nil)
            }
            return .unauthorized("authentication required", challenge: challenge(scopes))
        }
        let claims: RegistryTokenClaims
        do {
            claims = try await keys.verify(token, as: RegistryTokenClaims.self, iteratingKeys: true)
            try check(claims)
        } catch {
            logger.debug("bearer token refused", metadata: ["reason": "\(error)"])
            return .invalid("invalid token", challenge: challenge(scopes, error: "invalid_token"))
        }
        guard scopes.allSatisfy(claims.grants) else {
            return .unauthorized(
                "the token does not grant the access this request needs",
                challenge: challenge(scopes, error: "insufficient_scope"))
        }
        let subject = claims.sub?.value ?? ""
        return .allowed(user: subject.isEmpty ? nil : subject)
    }

    private func check(_ claims: RegistryTokenClaims) throws {
        guard claims.iss.value == settings.issuer else { throw TokenRefusal("issuer \(claims.iss.value)") }
        try claims.aud.verifyIntendedAudience(includes: settings.service)
        let now = Date()
        try claims.exp.verifyNotExpired(currentDate: now.addingTimeInterval(-Self.leeway))
        try claims.nbf?.verifyNotBefore(currentDate: now.addingTimeInterval(Self.leeway))
    }

    /// `Bearer realm="…",service="…",scope="repository:name:pull,push"`
    private func challenge(_ scopes: [AccessScope], error: String? = nil) -> String {
        var challenge = "Bearer realm=\"\(settings.realm)\",service=\"\(settings.service)\""
        if !scopes.isEmpty { challenge += ",scope=\"\(scopes.map(\.description).joined(separator: " "))\"" }
        if let error { challenge += ",error=\"\(error)\"" }
        return challenge
    }
}

private struct TokenRefusal: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
