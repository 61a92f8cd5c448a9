import Foundation
import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

/// Binds the request's ``EventOrigin`` for the events the request causes. Placed after
/// authentication, so that the user it reads from the ``RequestRecord`` is the authenticated
/// one (the same one the access log and the audit trail report); only in the chain when
/// `notifications.endpoints` has an enabled endpoint.
struct EventOriginMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    /// `http.host`, when set: target URLs then start with it rather than the request's `Host`.
    let externalURL: String?
    /// `http.prefix` without its trailing slash.
    let prefix: String
    let scheme: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let host = request.head.authority
        let origin = EventOrigin(
            request: RegistryEvent.Request(
                id: UUID().uuidString.lowercased(), addr: context.remoteAddress, host: host,
                method: request.method.rawValue, useragent: request.headers[.userAgent] ?? ""),
            actor: RegistryEvent.Actor(name: context.record.user),
            baseURL: (externalURL ?? "\(scheme)://\(host ?? "localhost")") + prefix)
        return try await EventOrigin.$current.withValue(origin) { try await next(request, context) }
    }
}
