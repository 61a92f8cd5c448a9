import Hummingbird
import RegistryCore

/// Serves the API route a request resolved to (``FrontDoors`` found it; the
/// middleware between has authenticated it). A path that names no endpoint is a 404, a
/// method the endpoint does not take a 405, both as OCI errors.
struct APIResponder: HTTPResponder {
    typealias Context = RegistryRequestContext

    let api: RegistryAPI

    func respond(to request: Request, context: Context) async throws -> Response {
        if let (route, endpoint) = context.record.resolution {
            if let endpoint { return try await endpoint.handler(api, route, request, context) }
            throw HTTPRefusal(
                .methodNotAllowed, .unsupported, "method \(request.method.rawValue) is not allowed on this endpoint")
        }
        throw HTTPRefusal(.notFound, .unsupported, "no such endpoint", detail: String(request.uri.path.prefix(256)))
    }
}
