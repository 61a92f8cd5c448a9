import Hummingbird
import NIOCore
import RegistryUI

/// Hummingbird's request context plus what the registry's middleware and handlers share:
/// the connection's event loop (streaming responses pace themselves by it), the client's
/// address, and the ``RequestRecord`` that middleware fills in for what runs after it (the
/// endpoint the path resolved to; the user, for the access log).
struct RegistryRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop
    /// The client's IP address, for the access log and per-client limits.
    let remoteAddress: String?
    let record: RequestRecord
    /// Hands blob files to the kernel on a plain-HTTP connection.
    let sendfile: SendfileWriter

    /// ``remoteAddress``, or "-" when the channel has none.
    var clientAddress: String { remoteAddress ?? "-" }

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
        remoteAddress = source.channel.remoteAddress?.ipAddress
        record = RequestRecord()
        sendfile = SendfileWriter(channel: source.channel)
    }
}

extension RegistryRequestContext: WebUIRequestContext {}
