import Hummingbird
import RegistryCore

/// What an authenticator concludes about one request.
enum AccessDecision: Sendable {
    /// Go on; `user` is nil for an anonymous request the access rules allow.
    case allowed(user: String?)
    /// Answer with this error and, for a 401, this `WWW-Authenticate` challenge.
    case refused(RegistryError, challenge: String?)
    /// Credentials were presented and are wrong (a bad password, an invalid token): refused
    /// like ``refused(_:challenge:)``, and counted against the client by ``AuthFailureLimiter``.
    case invalidCredentials(RegistryError, challenge: String)

    static func unauthorized(_ message: String, challenge: String) -> AccessDecision {
        .refused(RegistryError(.unauthorized, message), challenge: challenge)
    }

    static func invalid(_ message: String, challenge: String) -> AccessDecision {
        .invalidCredentials(RegistryError(.unauthorized, message), challenge: challenge)
    }

    static let denied = AccessDecision.refused(
        RegistryError(.denied, "requested access to the resource is denied"), challenge: nil)
}

/// Checks a request's credentials against what its route needs.
protocol RequestAuthenticator: Sendable {
    /// `scopes` is empty for the base endpoint, which needs only valid credentials.
    func decide(authorization: String?, scopes: [AccessScope]) async -> AccessDecision
}
