import Hummingbird
import NIOCore
import RegistryCore

/// Hummingbird's request context plus what the registry's middleware and handlers share:
/// the connection's event loop (streaming responses pace themselves by it), the client's
/// address, the API endpoint the path resolved to, and the ``RequestRecord`` that inner
/// middleware fills in for outer middleware (the access log learns the user from it).
struct RegistryRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    /// The client's IP address, for the access log and per-client limits.
    let remoteAddress: String?
    /// Set by ``EndpointMiddleware`` for `/v2/` paths that name a route...
    var apiRoute: Route?
    /// ...and the endpoint serving the request's method on it.
    var endpoint: ResolvedEndpoint?
    let record: RequestRecord

    /// ``remoteAddress``, or "-" when the channel has none.
    var clientAddress: String { remoteAddress ?? "-" }

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
        remoteAddress = source.channel.remoteAddress?.ipAddress
        record = RequestRecord()
    }
}
