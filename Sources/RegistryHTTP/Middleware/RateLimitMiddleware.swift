import Hummingbird

/// `berth.limits.ratelimit`: a token bucket per client address, checked before anything
/// else that costs work (authentication's bcrypt included).
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let limiter: RequestLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try limiter.admit(client: context.clientAddress)
        return try await next(request, context)
    }
}
