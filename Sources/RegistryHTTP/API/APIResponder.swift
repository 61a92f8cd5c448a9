import Hummingbird
import RegistryCore

/// Serves the API route a request resolved to (``EndpointMiddleware`` found it; the
/// middleware between has authenticated it). A path that names no endpoint is a 404, a
/// method the endpoint does not take a 405, both as OCI errors.
struct APIResponder: HTTPResponder {
    typealias Context = RegistryRequestContext

    let api: RegistryAPI

    func respond(to request: Request, context: Context) async throws -> Response {
        if let resolved = context.endpoint {
            return try await resolved.endpoint.handler(api, resolved.route, request, context)
        }
        if context.apiRoute != nil {
            throw HTTPRefusal(
                .methodNotAllowed, .unsupported, "method \(request.method.rawValue) is not allowed on this endpoint")
        }
        throw HTTPRefusal(.notFound, .unsupported, "no such endpoint", detail: String(request.uri.path.prefix(256)))
    }
}
