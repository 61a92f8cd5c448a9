import Logging
import NIOCore
import NIOHTTP1

/// Frees connections from clients that send too slowly (`berth.limits.readtimeout`):
/// a request head must arrive completely within the timeout of its first byte, and a body
/// may not stall for longer than the timeout while the server is waiting for it.
///
/// Two handlers share one ``RequestReadState``: ``RawReadTimeoutHandler`` in front of the HTTP
/// decoder sees bytes arrive and the server ask for more; ``RequestPhaseHandler`` behind the
/// decoder sees where a request begins and ends. Time the server itself spends not reading
/// (back-pressure while it writes to disk) never counts against the client.
final class RequestReadState {
    enum Phase {
        /// No request has started; the idle timeout applies.
        case betweenRequests
        /// Bytes of a request head have arrived since this time.
        case head(since: NIODeadline)
        /// The head is complete; the body (if any) is arriving.
        case body
    }

    var phase = Phase.betweenRequests
    /// Set when the server asked the socket for more data and none has arrived yet.
    var waitingSince: NIODeadline?

    /// Why the connection should close at `now`, if it should.
    func expired(at now: NIODeadline, timeout: TimeAmount) -> String? {
        switch phase {
        case .betweenRequests:
            return nil
        case .head(let since):
            return now - since > timeout ? "request head not complete within the read timeout" : nil
        case .body:
            guard let waitingSince, now - waitingSince > timeout else { return nil }
            return "request body stalled for longer than the read timeout"
        }
    }
}

@available(*, unavailable)
extension RequestReadState: Sendable {}

/// In front of the HTTP decoder: notes raw reads and the server's demand, and closes the
/// connection once ``RequestReadState`` says the client is too slow.
final class RawReadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let state: RequestReadState
    private let timeout: TimeAmount
    private let tick: TimeAmount
    private let logger: Logger
    private var scheduled: Scheduled<Void>?

    init(state: RequestReadState, timeout: Duration, logger: Logger) {
        self.state = state
        self.logger = logger
        self.timeout = TimeAmount(timeout)
        self.tick = .nanoseconds(min(1_000_000_000, max(100_000_000, self.timeout.nanoseconds / 4)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        state.waitingSince = nil
        if case .betweenRequests = state.phase {
            state.phase = .head(since: .now())
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if state.waitingSince == nil { state.waitingSince = .now() }
        context.read()
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard scheduled == nil else { return }
        scheduled = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: tick) {
            self.scheduled = nil
            if let reason = self.state.expired(at: .now(), timeout: self.timeout) {
                self.logger.notice(
                    "closing a slow connection",
                    metadata: ["reason": "\(reason)", "client": "\(context.channel.remoteAddress?.ipAddress ?? "-")"])
                context.close(promise: nil)
            } else if context.channel.isActive {
                self.schedule(context)
            }
        }
    }

    private func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}

@available(*, unavailable)
extension RawReadTimeoutHandler: Sendable {}

/// Behind the HTTP decoder: marks where each request's head ends and its body ends.
final class RequestPhaseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let state: RequestReadState

    init(state: RequestReadState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: state.phase = .body
        case .body: break
        case .end: state.phase = .betweenRequests
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestPhaseHandler: Sendable {}
