import Hummingbird
import RegistryCore

/// With `health.storagedriver.enabled`: once the periodic check has failed `threshold` times
/// in a row, the API answers 503 until a check passes again.
struct HealthGateMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let monitor: HealthMonitor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard monitor.isServing else {
            throw HTTPRefusal(.serviceUnavailable, .unavailable, "the registry's storage is failing health checks")
        }
        return try await next(request, context)
    }
}
