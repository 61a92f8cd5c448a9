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
///
/// The same tick also checks `berth.limits.minbodyrate` (``BodyRateWindow``): a body that
/// trickles in just fast enough never to stall is closed once its average over the period
/// falls below the minimum. The upload session keeps every chunk completed before; only the
/// cut-off request's bytes are dropped, and the client resumes from the offset GET reports.
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
    /// `berth.limits.minbodyrate`; nil when off.
    private var bodyRate: BodyRateWindow?
    /// Body bytes received since the last tick.
    private var bodyBytes = 0
    private var lastTick = NIODeadline.now()

    init(bodyRate: BodyRateWindow? = nil) { self.bodyRate = bodyRate }

    var inBody: Bool {
        if case .body = phase { return true }
        return false
    }

    /// A request head is complete: its body (if any) starts now.
    func startBody() {
        phase = .body
        bodyRate?.reset()
        bodyBytes = 0
        lastTick = .now()
    }

    /// Notes `count` bytes of a body.
    func received(bodyBytes count: Int) { bodyBytes += count }

    /// Called on every tick: why the connection should close because its body is too slow, if it should.
    func bodyTooSlow(at now: NIODeadline) -> String? {
        defer {
            lastTick = now
            bodyBytes = 0
        }
        guard inBody, var window = bodyRate else { return nil }
        let waited: TimeAmount
        if bodyBytes > 0 {
            waited = now - lastTick
        } else if let waitingSince {
            waited = now - max(lastTick, waitingSince)
        } else {
            return nil  // the server was not reading: not the client's time
        }
        let slow = window.record(elapsed: .nanoseconds(waited.nanoseconds), bytes: bodyBytes)
        bodyRate = window
        guard slow else { return nil }
        return "request body averaged \(window.averageRate) bytes/s over \(window.period), below berth.limits.minbodyrate \(window.minimumRate)"
    }

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
        let size = unwrapInboundIn(data).readableBytes
        let wasBody = state.inBody
        context.fireChannelRead(data)
        // The read that completes a head may carry the body's first bytes too.
        if wasBody || state.inBody { state.received(bodyBytes: size) }
    }

    func read(context: ChannelHandlerContext) {
        if state.waitingSince == nil { state.waitingSince = .now() }
        context.read()
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard scheduled == nil else { return }
        scheduled = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: tick) {
            self.scheduled = nil
            let now = NIODeadline.now()
            if let reason = self.state.expired(at: now, timeout: self.timeout) ?? self.state.bodyTooSlow(at: now) {
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
        case .head: state.startBody()
        case .body: break
        case .end: state.phase = .betweenRequests
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestPhaseHandler: Sendable {}
