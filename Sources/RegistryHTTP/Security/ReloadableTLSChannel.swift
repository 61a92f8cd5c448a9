import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// HummingbirdTLS's `TLSChannel`, except that each new connection takes the TLS context
/// current at accept time, so that a reloaded certificate applies without a restart.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let base: BaseChannel
    let contexts: TLSContextSource

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: contexts.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// ``RegistryHTTP1Channel`` behind TLS from `contexts`.
    static func registryHTTPS(
        idleTimeout: Duration, readTimeout: Duration, guards: ConnectionGuards, contexts: TLSContextSource
    ) -> HTTPServerBuilder {
        .init { responder in
            ReloadableTLSChannel(
                base: RegistryHTTP1Channel(
                    responder: responder, idleTimeout: idleTimeout, readTimeout: readTimeout, guards: guards,
                    secure: true),
                contexts: contexts)
        }
    }
}
