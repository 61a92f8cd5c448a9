import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1 child channel with ``HTTP10ConnectionHandler`` in its pipeline, plus
/// the read timeout (``RawReadTimeoutHandler``) and OCI answers to unparseable requests
/// (``HTTPParseErrorHandler``).
struct RegistryHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// Time before an idle connection is closed.
    let idleTimeout: Duration
    /// Time a client may take to send a request head, or let its body stall.
    let readTimeout: Duration
    /// Connections per client and the minimum body rate.
    var guards = ConnectionGuards()
    /// Whether TLS sits below this channel (``ReloadableTLSChannel``): then blob files are
    /// streamed, not handed to `sendfile`.
    var secure = false

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            if let connections = guards.connections, !connections.admit(channel, logger: logger) {
                // Over the client's limit: closed before a byte is parsed. The handler sees an
                // async channel whose inbound side has already ended.
                try channel.pipeline.syncOperations.addHandler(DiscardingHandler())
                let refused = try Value(wrappingChannelSynchronously: channel)
                channel.close(promise: nil)
                return refused
            }
            let readState = RequestReadState(bodyRate: guards.bodyRateWindow())
            try channel.pipeline.syncOperations.addHandler(
                RawReadTimeoutHandler(state: readState, timeout: readTimeout, logger: logger))
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // NIOAsyncChannel handles requests one at a time
                withErrorHandling: false,  // Hummingbird answers parse errors itself
                withOutboundHeaderValidation: false,  // HTTP types validate headers already
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init()
            )
            try channel.pipeline.syncOperations.addHandler(RequestPhaseHandler(state: readState))
            try channel.pipeline.syncOperations.addHandler(HTTPParseErrorHandler())
            try channel.pipeline.syncOperations.addHandler(HTTP10ConnectionHandler())
            if !secure {
                try channel.pipeline.syncOperations.addHandler(SendfileHandler())
            }
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(
                HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            if secure {
                // Behind TLS each read cycle hands on everything decrypted in it as one buffer:
                // with NIO's four socket reads per cycle and ten parts waiting, an upload's
                // connection held megabytes (eight parallel uploads over TLS peaked 100 MiB).
                // One read per cycle and two parts waiting keep it to a few hundred KiB (69 MiB),
                // at the same upload speed.
                try channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: Self.secureReadsPerCycle)
            }
            let backPressure = secure ? Self.secureBackPressure : Self.plainBackPressure
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(backPressureStrategy: backPressure, isOutboundHalfClosureEnabled: true))
        }
    }

    /// Socket reads per read cycle behind TLS (NIO's default is four).
    static let secureReadsPerCycle: UInt = 1
    /// Request parts waiting for the handler behind TLS (NIO's default is ten).
    static let secureBackPressure = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
        lowWatermark: 1, highWatermark: 2)
    /// NIO's default for plain connections, whose parts are single socket reads.
    static let plainBackPressure = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark(
        lowWatermark: 2, highWatermark: 10)

    func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 and HTTP/1.0 with ``RegistryHTTP1Channel``.
    static func registryHTTP1(idleTimeout: Duration, readTimeout: Duration, guards: ConnectionGuards) -> HTTPServerBuilder {
        .init { responder in
            RegistryHTTP1Channel(responder: responder, idleTimeout: idleTimeout, readTimeout: readTimeout, guards: guards)
        }
    }
}

/// Drops whatever arrives on a connection that is being refused.
private final class DiscardingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
