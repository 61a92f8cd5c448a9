import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

/// Assembles the registry's routes and middleware, in one fixed order:
///
/// Every route: access log → response headers → metrics → OCI error mapping. Outermost
/// first: the access log and the metrics see every answer, refusals and errors included.
///
/// The API (`<http.prefix>v2/…`): rate limit → endpoint resolution → authentication and
/// access rules → health gate → upload slots → the endpoint's handler. The rate limit comes
/// first so that a client over it costs nothing (no bcrypt); authentication comes before the
/// health gate and before unknown paths are answered, so that only those who may use the API
/// learn anything about it.
///
/// `/healthz` and `/debug/health` are open. The web UI and other front doors add their own
/// groups beside the API with their own middleware.
struct RegistryRouter {
    struct Settings {
        var prefix = ""
        var extraHeaders: [(HTTPField.Name, String)] = []
        var accessLog = true
        var metrics: RequestMetrics?
        var limiter: RequestLimiter
        var authenticator: (any RequestAuthenticator)?
        var health: HealthMonitor
        var healthGatesRequests: Bool
    }

    static func build(api: RegistryAPI, settings: Settings) -> Router<RegistryRequestContext> {
        let router = Router(context: RegistryRequestContext.self)
        if settings.accessLog { router.add(middleware: AccessLogMiddleware()) }
        router.add(middleware: ResponseHeadersMiddleware(extraHeaders: settings.extraHeaders))
        if let metrics = settings.metrics { router.add(middleware: MetricsMiddleware(metrics: metrics)) }
        router.add(middleware: ErrorMiddleware())

        let health = HealthEndpoint(monitor: settings.health, gatesRequests: settings.healthGatesRequests)
        for path in ["/healthz", "/debug/health"] {
            router.on(RouterPath(path), method: .get, responder: health)
            router.on(RouterPath(path), method: .head, responder: health)
        }

        let group = router.group(RouterPath(settings.prefix + "/v2"))
        group.add(middleware: RateLimitMiddleware(limiter: settings.limiter))
        group.add(middleware: EndpointMiddleware(prefix: settings.prefix))
        if let authenticator = settings.authenticator {
            group.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        }
        if settings.healthGatesRequests { group.add(middleware: HealthGateMiddleware(monitor: settings.health)) }
        group.add(middleware: UploadSlotMiddleware(limiter: settings.limiter))
        let responder = APIResponder(api: api)
        for method: HTTPRequest.Method in [.get, .head, .put, .post, .patch, .delete, .options] {
            group.on("", method: method) { request, context in try await responder.respond(to: request, context: context) }
            group.on("**", method: method) { request, context in try await responder.respond(to: request, context: context) }
        }
        return router
    }
}
