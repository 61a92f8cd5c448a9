import Hummingbird
import NIOCore

/// Hummingbird's request context plus the connection's event loop, which streaming
/// responses use to pace themselves (see ``RegistryAPI/getBlob(_:_:_:context:)``).
struct RegistryRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    /// The client's IP address, for the access log and per-client limits.
    let remoteAddress: String?
    /// ``remoteAddress``, or "-" when the channel has none.
    var clientAddress: String { remoteAddress ?? "-" }

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
