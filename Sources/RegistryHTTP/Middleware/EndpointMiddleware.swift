import Hummingbird
import RegistryCore

/// Resolves an API path to its route and endpoint, matching from the end of the path
/// (repository names contain slashes and may contain `manifests` or `blobs`, which a trie
/// cannot express), and works out the access the request needs. An unknown path or method is
/// answered later, after authentication, so that only those who may ask learn of it.
struct EndpointMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    /// `http.prefix` without its trailing slash.
    let prefix: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let path = request.uri.path
        if let route = Route(path: prefix.isEmpty ? path : String(path.dropFirst(prefix.count))) {
            context.record.routeLabel = route.kind.rawValue
            context.apiRoute = route
            if let endpoint = APIEndpoint.find(route, method: request.method) {
                let mountFrom = request.query("mount") != nil ? request.query("from") : nil
                context.endpoint = ResolvedEndpoint(
                    route: route, endpoint: endpoint, scopes: endpoint.scopes(for: route, mountFrom: mountFrom))
            }
        }
        return try await next(request, context)
    }
}
