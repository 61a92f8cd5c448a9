import HTTPTypes
import Hummingbird
import Logging
import RegistryCore

/// Routes every request: the API under `/v2/`, `/healthz`, and OCI errors for everything else.
/// Adds the headers every response carries and writes the access log line.
struct RegistryResponder: HTTPResponder {
    typealias Context = RegistryRequestContext

    let api: RegistryAPI
    let health: HealthMonitor
    /// Checked periodically only when `health.storagedriver.enabled`.
    let healthGatesRequests: Bool
    let extraHeaders: [(HTTPField.Name, String)]
    let accessLog: Bool
    /// Authentication and access rules for `/v2/`.
    var gate = AccessGate(authenticator: nil)
    /// Nil unless Prometheus metrics are enabled.
    var metrics: RequestMetrics? = nil
    /// `berth.limits`: per-client rate and concurrent uploads.
    let limiter: RequestLimiter

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var request = request
        metrics?.countingBody(of: &request)
        var response: Response
        let route = Route(path: request.uri.path)
        let (user, refusal) = await gate.check(request, route: route, logger: context.logger)
        do {
            if let refusal {
                response = refusal
            } else {
                response = try await respond(to: request, route: route, context: context)
            }
        } catch {
            response = ErrorResponse.make(for: error, method: request.method, logger: context.logger)
        }
        response.headers[.dockerDistributionAPIVersion] = "registry/2.0"
        for (name, value) in extraHeaders {
            response.headers.append(HTTPField(name: name, value: value))
        }
        let elapsed = ContinuousClock.now - start
        metrics?.record(request, route: route, response: response, duration: elapsed)
        if accessLog {
            context.logger.info(
                "\(request.method.rawValue) \(request.uri.path) \(response.status.code)",
                metadata: [
                    "status": "\(response.status.code)",
                    "user": "\(user ?? "-")",
                    "duration_ms": "\(Int(elapsed.inSeconds * 1000))",
                    "bytes": "\(response.headers[.contentLength] ?? "-")",
                    "remote": "\(context.remoteAddress ?? "-")",
                ])
        }
        return response
    }

    private func respond(to request: Request, route: Route?, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/healthz" || path == "/debug/health" {
            return await healthResponse(request)
        }
        guard let route else {
            throw RegistryError(.unsupported, "no such endpoint", detail: String(path.prefix(256)), status: 404)
        }
        if healthGatesRequests, !health.isServing {
            throw RegistryError(.unavailable, "the registry's storage is failing health checks", status: 503)
        }
        try limiter.admit(client: context.clientAddress)
        guard RequestLimiter.isBlobUpload(route, request) else {
            return try await api.respond(to: route, request: request, context: context)
        }
        return try await limiter.withUploadSlot { try await api.respond(to: route, request: request, context: context) }
    }

    private func healthResponse(_ request: Request) async -> Response {
        let report = await health.check()
        let serving = report.healthy && (!healthGatesRequests || health.isServing)
        func entry(_ problem: String?) -> String {
            problem.map { "{\"status\":\"error\",\"message\":\(JSONString.quote($0))}" } ?? "{\"status\":\"ok\"}"
        }
        let body = """
            {"status":"\(serving ? "ok" : "unavailable")","checks":{"storage":\(entry(report.storage)),\
            "database":\(entry(report.database))}}
            """
        return Response.json(body, status: serving ? .ok : .serviceUnavailable, method: request.method)
    }
}
