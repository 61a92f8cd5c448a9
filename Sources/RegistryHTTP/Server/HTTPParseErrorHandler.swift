import Foundation
import NIOCore
import NIOHTTP1
import RegistryCore

/// Answers a request NIO's HTTP decoder cannot parse with an OCI error, then closes:
/// headers over the decoder's limit get 431, anything else that is not HTTP/1 gets 400.
///
/// Takes over only between requests (nothing of a response written yet); a parse error in
/// the middle of a request's body goes on to the handler reading that body, and
/// ``ErrorResponse`` answers it with 400.
final class HTTPParseErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests whose head was read and whose response has not ended.
    private var requestsInFlight = 0
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { requestsInFlight += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { requestsInFlight = max(0, requestsInFlight - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError, requestsInFlight == 0, !answered else {
            if !answered { context.fireErrorCaught(error) }
            return
        }
        answered = true
        let answer =
            parseError == .headerOverflow
            ? HTTPRefusal(.init(code: 431), .sizeInvalid, "request headers are too large")
            : HTTPRefusal(.badRequest, .unsupported, "malformed HTTP request", detail: "\(parseError)")
        let body = ByteBuffer(bytes: (try? JSONEncoder().encode(OCIErrorBody(answer.error))) ?? Data())
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        headers.add(name: "docker-distribution-api-version", value: "registry/2.0")
        let status = HTTPResponseStatus(statusCode: answer.status.code)
        context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolatedUnsafeUnchecked().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTPParseErrorHandler: Sendable {}
