import JWTKit
import RegistryCore

/// The claims of a Docker registry token: who, for which service, from which issuer, until
/// when, and the `access` it grants.
struct RegistryTokenClaims: JWTPayload {
    /// `{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}`
    struct Access: Codable, Sendable {
        var type: String
        var name: String
        var actions: [String]
    }

    var iss: IssuerClaim
    var sub: SubjectClaim?
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var access: [Access]?

    /// The signature is checked by then; issuer, audience and times by ``TokenAuthenticator``,
    /// which knows the expected values.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// True when the `access` claim grants every action of `scope`.
    func grants(_ scope: AccessScope) -> Bool {
        let entries = access ?? []
        switch scope.resource {
        case .catalog:
            return entries.contains { $0.type == "registry" && $0.name == "catalog" && $0.actions.contains("*") }
        case .repository(let name):
            let granted = entries.filter { $0.type == "repository" && $0.name == name }.flatMap(\.actions)
            return granted.contains("*") || scope.actions.allSatisfy { granted.contains($0.rawValue) }
        }
    }
}
