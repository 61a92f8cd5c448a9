import Hummingbird
import Foundation
import RegistryCore
import RegistryService
import RegistryStorage

/// What checking a sign-in gave: the server counts failed attempts per client and user name
/// with the API's (`berth.limits.authfailures`), so the form is no way around that limit.
public enum SignInOutcome: Sendable, Equatable {
    case accepted
    case refused
    /// Too many failures: refused without checking the password, for `retryAfter` seconds.
    case throttled(retryAfter: Int)
}

/// The request context the UI's routes need: Hummingbird's, plus the client's address (for
/// counting failed sign-ins).
public protocol WebUIRequestContext: RequestContext {
    var clientAddress: String { get }
}

/// What the web UI needs to know from the server that mounts it.
public struct WebUISettings: Sendable {
    /// How people sign in to the UI.
    public enum SignIn: Sendable {
        /// No authentication is configured: everything is open, as it is for the API.
        case open
        /// `auth.htpasswd`: a sign-in form whose password is checked by `verify`, the same
        /// check (and file) the API uses.
        case htpasswd(verify: @Sendable (_ user: String, _ password: String, _ client: String) async -> SignInOutcome)
        /// `auth.token`: the UI cannot sign anyone in; it says so.
        case token(realm: String)
    }

    public var signIn: SignIn
    /// `berth.access`: which repositories a visitor sees and where they may delete.
    public var policy: AccessPolicy
    /// `http.secret`: the session key is derived from it; without it a random key is made at
    /// start (sessions then end when the server restarts).
    public var secret: String?
    /// True when served over TLS: the session cookie is then `Secure`.
    public var secureCookies: Bool
    public var sessionLifetime: Duration
    public var version: String
    /// When the server started, for the status page's uptime.
    public var startedAt: Date
    /// The last store health check (`/healthz`'s).
    public var health: @Sendable () async -> StoreHealth
    /// Counts of what the registry holds, and the last garbage collection.
    public var statistics: (@Sendable () async throws -> RegistryStatistics)?

    public init(
        signIn: SignIn, policy: AccessPolicy, secret: String?, secureCookies: Bool,
        sessionLifetime: Duration = .seconds(12 * 3600), version: String, startedAt: Date = Date(),
        health: @escaping @Sendable () async -> StoreHealth,
        statistics: (@Sendable () async throws -> RegistryStatistics)? = nil
    ) {
        self.signIn = signIn
        self.policy = policy
        self.secret = secret
        self.secureCookies = secureCookies
        self.sessionLifetime = sessionLifetime
        self.version = version
        self.startedAt = startedAt
        self.health = health
        self.statistics = statistics
    }
}
