import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService
import RegistryUI

/// Assembles the registry's routes and middleware, in one fixed order:
///
/// Every request: access log → response headers → metrics → OCI error mapping. Outermost
/// first: the access log and the metrics see every answer, refusals and errors included.
///
/// Then the API (`<http.prefix>/v2/…`), whose paths ``FrontDoors`` resolves to their route and
/// endpoint, matching from the end (a trie cannot express repository names that contain
/// `manifests` or `blobs`): audit → rate limit → authentication and access rules → health gate →
/// upload slots → the endpoint's handler. The rate limit comes first so that a client over it
/// costs nothing (no bcrypt), and authentication checks the client's failed attempts
/// (``AuthFailureLimiter``) before any password; authentication comes before the health gate and before unknown
/// paths or methods are answered, so that only those who may use the API learn anything about
/// it. The audit trail comes first of all so that it sees refused logins.
///
/// Everything else goes to Hummingbird's router: `/healthz` and `/debug/health` (open to
/// everyone), the web UI under `/ui/` (which checks its visitors itself), and the front doors that add their own groups and middleware beside the API.
struct RegistryRouter {
    struct Settings {
        var prefix = ""
        var extraHeaders: [(HTTPField.Name, String)] = []
        var accessLog = true
        var metrics: RequestMetrics?
        var limiter: RequestLimiter
        var authenticator: (any RequestAuthenticator)?
        /// `berth.limits.authfailures`; nil when off.
        var authFailures: AuthFailureLimiter? = nil
        var health: HealthMonitor
        var healthGatesRequests: Bool
        var audit: AuditQueue? = nil
        /// The web UI under `/ui/` (and `/` redirecting there); nil when `berth.ui.enabled` is false.
        var ui: WebUI? = nil
        /// Binds each API request's event origin; nil when no notification endpoint is enabled.
        var eventOrigin: EventOriginMiddleware? = nil
    }

    typealias Context = RegistryRequestContext

    static func build(api: RegistryAPI, settings: Settings) -> RegistryResponder {
        var outer: [any RouterMiddleware<Context>] = []
        if settings.accessLog { outer.append(AccessLogMiddleware()) }
        outer.append(ResponseHeadersMiddleware(extraHeaders: settings.extraHeaders))
        if let metrics = settings.metrics { outer.append(MetricsMiddleware(metrics: metrics)) }
        outer.append(ErrorMiddleware())

        // Middleware with nothing to do under this configuration is left out of the chain.
        var inner: [any RouterMiddleware<Context>] = []
        if let audit = settings.audit { inner.append(AuditMiddleware(queue: audit)) }
        if settings.limiter.limitsRate { inner.append(RateLimitMiddleware(limiter: settings.limiter)) }
        if let authenticator = settings.authenticator {
            inner.append(AuthenticationMiddleware(authenticator: authenticator, failures: settings.authFailures))
        }
        if settings.healthGatesRequests { inner.append(HealthGateMiddleware(monitor: settings.health)) }
        if settings.limiter.limitsUploads { inner.append(UploadSlotMiddleware(limiter: settings.limiter)) }
        if let eventOrigin = settings.eventOrigin { inner.append(eventOrigin) }

        let router = Router(context: Context.self)
        // The router answers what matches no route itself; this makes that answer an OCI error too.
        router.add(middleware: ErrorMiddleware())
        let health = HealthEndpoint(monitor: settings.health, gatesRequests: settings.healthGatesRequests)
        for path in ["/healthz", "/debug/health"] {
            router.on(RouterPath(path), method: .get, responder: health)
            router.on(RouterPath(path), method: .head, responder: health)
        }
        settings.ui?.addRoutes(to: router)
        let dispatch = FrontDoors(
            prefix: settings.prefix, api: MiddlewareChain.compose(inner, around: APIResponder(api: api)),
            router: router.buildResponder())
        return RegistryResponder(chain: MiddlewareChain.compose(outer, around: dispatch))
    }
}

/// The whole registry as one responder, for Hummingbird's `Application`.
struct RegistryResponder: HTTPResponder {
    let chain: any HTTPResponder<RegistryRequestContext>

    func respond(to request: Request, context: RegistryRequestContext) async throws -> Response {
        try await chain.respond(to: request, context: context)
    }
}

/// Sends API paths, resolved to their route and endpoint, to the API's middleware and
/// handlers; everything else to the router. An API path that names no route, or a method its
/// route does not take, is answered by ``APIResponder`` after authentication.
struct FrontDoors<Router: HTTPResponder<RegistryRequestContext>>: HTTPResponder {
    typealias Context = RegistryRequestContext

    /// `http.prefix` without its trailing slash.
    let prefix: String
    let api: any HTTPResponder<Context>
    let router: Router

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard let apiPath = Self.apiPath(path, prefix: prefix) else {
            return try await router.respond(to: request, context: context)
        }
        if let route = Route(path: apiPath) {
            context.record.resolve(route, APIEndpoint.find(route, method: request.method))
        }
        return try await api.respond(to: request, context: context)
    }

    /// The path without `http.prefix` when it is `/v2` or under `/v2/`, else nil.
    static func apiPath(_ path: String, prefix: String) -> String? {
        guard path.hasPrefix(prefix + "/v2") else { return nil }
        let rest = path.utf8.dropFirst(prefix.utf8.count + 3)
        guard rest.isEmpty || rest.first == UInt8(ascii: "/") else { return nil }
        return prefix.isEmpty ? path : String(path.dropFirst(prefix.count))
    }
}

/// Middleware wrapped around a responder in order, the first outermost, as Hummingbird's
/// router wraps a route's middleware.
enum MiddlewareChain {
    static func compose(
        _ middlewares: [any RouterMiddleware<RegistryRequestContext>], around responder: any HTTPResponder<RegistryRequestContext>
    ) -> any HTTPResponder<RegistryRequestContext> {
        middlewares.reversed().reduce(responder) { next, middleware in Layer(middleware: middleware, next: next) }
    }

    private struct Layer: HTTPResponder {
        let middleware: any RouterMiddleware<RegistryRequestContext>
        let next: any HTTPResponder<RegistryRequestContext>

        func respond(to request: Request, context: RegistryRequestContext) async throws -> Response {
            try await middleware.handle(request, context: context) { request, context in
                try await next.respond(to: request, context: context)
            }
        }
    }
}
