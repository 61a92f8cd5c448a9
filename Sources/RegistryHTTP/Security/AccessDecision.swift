import Hummingbird
import RegistryCore

/// What an authenticator concludes about one request.
enum AccessDecision: Sendable {
    /// Go on; `user` is nil for an anonymous request the access rules allow.
    case allowed(user: String?)
    /// Answer with this error and, for a 401, this `WWW-Authenticate` challenge.
    case refused(RegistryError, challenge: String?)

    static func unauthorized(_ message: String, challenge: String) -> AccessDecision {
        .refused(RegistryError(.unauthorized, message), challenge: challenge)
    }

    static let denied = AccessDecision.refused(
        RegistryError(.denied, "requested access to the resource is denied"), challenge: nil)
}

/// Checks a request's credentials against what its route needs.
protocol RequestAuthenticator: Sendable {
    /// `scopes` is empty for the base endpoint, which needs only valid credentials.
    func decide(authorization: String?, scopes: [AccessScope]) async -> AccessDecision
}
