import HTTPTypes
import Hummingbird
import RegistryCore

/// Authentication and access rules for the API: the credentials must grant every scope the
/// resolved endpoint declares. Without an authenticator (no `auth` in `config.yml`)
/// everything is open.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let authenticator: any RequestAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // An unknown endpoint needs valid credentials only: then it is a 404.
        var scopes: [AccessScope] = []
        if let (route, endpoint) = context.record.resolution, let endpoint {
            let mountFrom = request.query("mount") != nil ? request.query("from") : nil
            scopes = endpoint.scopes(for: route, mountFrom: mountFrom)
        }
        switch await authenticator.decide(authorization: request.headers[.authorization], scopes: scopes) {
        case .allowed(let user):
            context.record.user = user
            return try await next(request, context)
        case .refused(let error, let challenge):
            var response = ErrorResponse.make(for: error, method: request.method, logger: context.logger)
            if let challenge { response.headers[.wwwAuthenticate] = challenge }
            return response
        }
    }
}
