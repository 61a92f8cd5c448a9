import RegistryCore

/// `auth.htpasswd`: HTTP Basic against an htpasswd file, then `berth.access` rules.
struct HTPasswdAuthenticator: RequestAuthenticator {
    let file: HTPasswdFile
    let realm: String
    let policy: AccessPolicy

    private var challenge: String { "Basic realm=\"\(realm)\"" }

    func decide(authorization: String?, scopes: [AccessScope]) async -> AccessDecision {
        guard let authorization else {
            if !scopes.isEmpty, scopes.allSatisfy({ policy.allows(nil, $0) }) { return .allowed(user: nil) }
            return .unauthorized("authentication required", challenge: challenge)
        }
        guard let credentials = BasicCredentials(authorization: authorization),
            await file.verify(user: credentials.user, password: credentials.password)
        else {
            return .invalid("invalid user name or password", challenge: challenge)
        }
        guard scopes.allSatisfy({ policy.allows(credentials.user, $0) }) else { return .denied }
        return .allowed(user: credentials.user)
    }
}
