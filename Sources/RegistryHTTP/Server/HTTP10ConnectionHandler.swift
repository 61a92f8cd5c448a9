import NIOCore
import NIOHTTP1

/// Applies HTTP/1.0's connection rules, which the HTTP types below it cannot express
/// (they carry no protocol version): an HTTP/1.0 connection closes after the response unless
/// the request asked for `Connection: keep-alive`, and then the response says so
/// (RFC 9112 §9.3). The answer carries the request's version.
///
/// Sits between NIO's HTTP/1 codec and the conversion to HTTP types.
final class HTTP10ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Version and keep-alive of each request still waiting for its response head.
    private var pending: [(version: HTTPVersion, keepAlive: Bool)] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part {
            pending.append((head.version, head.isKeepAlive))
            if head.version == .http1_0, !head.isKeepAlive {
                // Tells the server loop above to close once it has answered.
                head.headers.replaceOrAdd(name: "connection", value: "close")
                part = .head(head)
            }
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var part = unwrapOutboundIn(data)
        if case .head(var head) = part, !pending.isEmpty {
            let request = pending.removeFirst()
            if request.version == .http1_0 {
                head.version = .http1_0
                head.headers.replaceOrAdd(name: "connection", value: request.keepAlive ? "keep-alive" : "close")
                part = .head(head)
            }
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }
}
