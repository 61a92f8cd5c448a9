import Hummingbird

/// Answers every error thrown inside it with an OCI error response (see ``ErrorResponse``),
/// so that the middleware outside it (metrics, headers, the access log) sees a response.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return ErrorResponse.make(for: error, method: request.method, logger: context.logger)
        }
    }
}
