import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads on SIGHUP until shutdown. The signal is trapped from the moment `hangups` exists
/// (its default action would end the process); signals that arrive before ``run()`` wait for it.
struct HangupReloadService: Service {
    let hangups: UnixSignalsSequence
    let logger: Logger
    let reload: @Sendable () async -> Void

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading")
            await reload()
        }
    }
}
