import Hummingbird
import RegistryCore

/// `berth.limits.concurrentuploads`: requests that stream a blob body (`POST ?digest=`,
/// `PATCH` and `PUT` on a session) each hold a slot while they run.
struct UploadSlotMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let limiter: RequestLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let route = context.record.resolution?.route, Self.streamsBlobBody(route, request) else {
            return try await next(request, context)
        }
        return try await limiter.withUploadSlot { try await next(request, context) }
    }

    static func streamsBlobBody(_ route: Route, _ request: Request) -> Bool {
        switch (route.kind, request.method) {
        case (.uploads, .post): request.uri.queryParameters["digest"] != nil
        case (.upload, .patch), (.upload, .put): true
        default: false
        }
    }
}
