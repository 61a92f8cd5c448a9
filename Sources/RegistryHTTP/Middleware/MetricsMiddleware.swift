import Hummingbird

/// Per-request metrics (see ``RequestMetrics``), outside the error mapping so that refusals
/// are counted with their status.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        var request = request
        metrics.countingBody(of: &request)
        let response = try await next(request, context)
        metrics.record(
            request, routeLabel: context.record.routeLabel ?? RequestMetrics.label(forPath: request.uri.path),
            response: response, duration: ContinuousClock.now - start)
        return response
    }
}
