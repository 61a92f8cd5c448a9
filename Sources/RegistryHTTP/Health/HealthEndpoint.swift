import Hummingbird
import RegistryService

/// `/healthz` (and `/debug/health`): 200 with `"status":"ok"` when both stores pass, else 503,
/// with each check's result. Open to everyone; served from ``HealthMonitor``'s last result.
struct HealthEndpoint: HTTPResponder {
    typealias Context = RegistryRequestContext

    let monitor: HealthMonitor
    /// True when failing periodic checks close the API (`health.storagedriver.enabled`).
    let gatesRequests: Bool

    func respond(to request: Request, context: Context) async throws -> Response {
        let report = await monitor.report()
        let serving = report.isHealthy && (!gatesRequests || monitor.isServing)
        let body = HealthBody(
            status: serving ? "ok" : "unavailable",
            checks: .init(storage: .init(report.storage), database: .init(report.database)))
        return Response.json(body, status: serving ? .ok : .serviceUnavailable, method: request.method)
    }

    struct HealthBody: Encodable {
        struct Check: Encodable {
            var status: String
            var message: String?

            init(_ problem: String?) {
                status = problem == nil ? "ok" : "error"
                message = problem
            }
        }

        struct Checks: Encodable {
            var storage: Check
            var database: Check
        }

        var status: String
        var checks: Checks
    }
}
