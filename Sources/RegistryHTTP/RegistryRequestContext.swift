import Hummingbird
import NIOCore

/// Hummingbird's request context plus the connection's event loop, which streaming
/// responses use to pace themselves (see ``RegistryAPI/getBlob(_:_:_:context:)``).
struct RegistryRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    /// The client's IP address, for per-client limits.
    let clientAddress: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}
