import Hummingbird
import Logging

/// Writes one access log line per response: method, path (never the query, which may carry
/// a token), status, user, duration, size and client address. Outermost, so it sees every
/// answer, refusals included.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        context.logger.info(
            "\(request.method.rawValue) \(request.uri.path) \(response.status.code)",
            metadata: [
                "status": "\(response.status.code)",
                "user": "\(context.record.user ?? "-")",
                "duration_ms": "\(Int((ContinuousClock.now - start).inSeconds * 1000))",
                "bytes": "\(response.headers[.contentLength] ?? "-")",
                "remote": "\(context.clientAddress)",
            ])
        return response
    }
}
