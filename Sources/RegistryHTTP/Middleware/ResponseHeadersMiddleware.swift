import HTTPTypes
import Hummingbird

/// Adds the headers every response carries: `Docker-Distribution-API-Version` and the
/// operator's `http.headers`. A header the handler set itself (the web UI's
/// `X-Content-Type-Options`, say) wins, as in Distribution, where `http.headers` are set
/// before the handler runs: a second copy would be flagged by scanners and is ambiguous.
struct ResponseHeadersMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let extraHeaders: [(HTTPField.Name, String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.dockerDistributionAPIVersion] = "registry/2.0"
        let setByHandler = Set(extraHeaders.map(\.0).filter { response.headers[$0] != nil })
        for (name, value) in extraHeaders where !setByHandler.contains(name) {
            response.headers.append(HTTPField(name: name, value: value))
        }
        return response
    }
}
