import HTTPTypes
import Hummingbird

/// Adds the headers every response carries: `Docker-Distribution-API-Version` and the
/// operator's `http.headers`.
struct ResponseHeadersMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let extraHeaders: [(HTTPField.Name, String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.dockerDistributionAPIVersion] = "registry/2.0"
        for (name, value) in extraHeaders {
            response.headers.append(HTTPField(name: name, value: value))
        }
        return response
    }
}
