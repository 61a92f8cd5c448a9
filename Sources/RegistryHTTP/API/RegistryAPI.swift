import HTTPTypes
import NIOCore
import Hummingbird
import RegistryCore
import RegistryService

/// The Distribution API's handlers: each turns a request into a call on the
/// ``RegistryService`` and its answer into a response. Each area lives in an extension of its
/// own; ``APIEndpoint/table`` says which handler serves which route and method, and with what
/// access.
struct RegistryAPI: Sendable {
    let service: RegistryService
    let locations: Locations

    /// `GET`/`HEAD /v2/`: the API is here (and, with authentication on, the client may use it).
    func base(_ request: Request) -> Response {
        Response.data(Self.emptyObject, contentType: "application/json; charset=utf-8", method: request.method)
    }

    private static let emptyObject = ByteBuffer(string: "{}")
}

/// Where `Location` headers point: paths under `http.prefix`, made absolute with `http.host`
/// when it is set (as the reference registry does), relative otherwise.
struct Locations: Sendable {
    /// `http.prefix` without its trailing slash.
    var prefix = ""
    /// `http.host`, when set.
    var externalURL: String?

    func url(_ apiPath: String) -> String {
        (externalURL ?? "") + prefix + apiPath
    }
}
