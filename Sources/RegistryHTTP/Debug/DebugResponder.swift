import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import Prometheus
import RegistryCore

/// The debug listener (`http.debug.addr`): `/debug/health` as on the main listener and,
/// with `http.debug.prometheus.enabled`, the Prometheus text format at its path.
struct DebugResponder: HTTPResponder {
    typealias Context = RegistryRequestContext

    struct Metrics: Sendable {
        let registry: PrometheusCollectorRegistry
        let path: String
        let storage: StorageMetrics
    }

    let health: HealthEndpoint
    let metrics: Metrics?

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if let metrics, path == metrics.path {
            guard request.method == .get || request.method == .head else {
                return ErrorResponse.make(
                    for: HTTPRefusal(.methodNotAllowed, .unsupported, "metrics are read with GET"),
                    method: request.method, logger: context.logger)
            }
            await metrics.storage.refresh()
            let text = ByteBuffer(bytes: metrics.registry.emitToBuffer())
            let headers: HTTPFields = [
                .contentType: "text/plain; version=0.0.4; charset=utf-8",
                .contentLength: String(text.readableBytes),
            ]
            return Response(
                status: .ok, headers: headers, body: request.method == .head ? ResponseBody() : .init(byteBuffer: text))
        }
        if path == "/debug/health" {
            return try await health.respond(to: request, context: context)
        }
        return ErrorResponse.make(
            for: HTTPRefusal(.notFound, .unsupported, "no such endpoint", detail: String(path.prefix(256))),
            method: request.method, logger: context.logger)
    }
}

/// Routes swift-metrics to one Prometheus registry. Call once per process.
enum PrometheusSetup {
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
