import HTTPTypes
import Hummingbird
import RegistryCore

/// Authentication and access rules for the API: the credentials must grant every scope the
/// resolved endpoint declares. Without an authenticator (no `auth` in `config.yml`)
/// everything is open.
///
/// With ``failures`` (`berth.limits.authfailures`), a client over the limit of failed
/// attempts gets 429 before its credentials are checked, so guessing costs no bcrypt work.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let authenticator: any RequestAuthenticator
    var failures: AuthFailureLimiter? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // An unknown endpoint needs valid credentials only: then it is a 404.
        var scopes: [AccessScope] = []
        if let (route, endpoint) = context.record.resolution, let endpoint {
            let mountFrom = request.query("mount") != nil ? request.query("from") : nil
            scopes = endpoint.scopes(for: route, mountFrom: mountFrom)
        }
        let authorization = request.headers[.authorization]
        // The user name a Basic header claims, unverified: only a key for counting failures.
        let claimedUser = authorization.flatMap(BasicCredentials.init(authorization:))?.user
        if let failures, authorization != nil {
            let verdict = failures.check(address: context.clientAddress, user: claimedUser)
            if case .refuse(let retryAfter, let log) = verdict {
                if log {
                    context.logger.warning(
                        "too many failed authentications; refusing further attempts without checking them",
                        metadata: [
                            "client": "\(context.clientAddress)", "user": "\(claimedUser ?? "-")",
                            "retry_after": "\(retryAfter)",
                        ])
                }
                throw TooManyRequests(
                    retryAfter: retryAfter, message: "too many failed authentication attempts; retry later")
            }
        }
        switch await authenticator.decide(authorization: authorization, scopes: scopes) {
        case .allowed(let user):
            failures?.recordSuccess(user: claimedUser ?? user)
            context.record.user = user
            return try await next(request, context)
        case .refused(let error, let challenge):
            return refusal(error, challenge: challenge, request: request, context: context)
        case .invalidCredentials(let error, let challenge):
            failures?.recordFailure(address: context.clientAddress, user: claimedUser)
            return refusal(error, challenge: challenge, request: request, context: context)
        }
    }

    private func refusal(_ error: RegistryError, challenge: String?, request: Request, context: Context) -> Response {
        var response = ErrorResponse.make(for: error, method: request.method, logger: context.logger)
        if let challenge { response.headers[.wwwAuthenticate] = challenge }
        return response
    }
}
