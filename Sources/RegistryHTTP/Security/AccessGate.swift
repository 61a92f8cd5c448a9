import HTTPTypes
import Hummingbird
import Logging
import RegistryCore

/// Authentication and authorization in front of every `/v2/` route; `/healthz` stays open.
struct AccessGate: Sendable {
    /// Nil when `config.yml` configures no authentication: everything is open.
    let authenticator: (any RequestAuthenticator)?

    /// Nil to go on (with the user name for the access log), or the refusal to send.
    /// `route` is the request's path already parsed (nil when it names no endpoint).
    func check(_ request: Request, route: Route?, logger: Logger) async -> (user: String?, refusal: Response?) {
        let path = request.uri.path
        guard let authenticator, path == "/v2" || path.hasPrefix("/v2/") else { return (nil, nil) }
        let scopes: [AccessScope]
        if let route {
            let mountFrom = request.query("mount") != nil ? request.query("from") : nil
            scopes = AccessScope.required(for: route, method: request.method.rawValue, mountFrom: mountFrom)
        } else {
            scopes = []  // an unknown endpoint: 404 only for those who may ask
        }
        switch await authenticator.decide(authorization: request.headers[.authorization], scopes: scopes) {
        case .allowed(let user):
            return (user, nil)
        case .refused(let error, let challenge):
            var response = ErrorResponse.make(for: error, method: request.method, logger: logger)
            if let challenge { response.headers[.wwwAuthenticate] = challenge }
            return (nil, response)
        }
    }
}
