import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads on SIGHUP (whose default action would end the process) until shutdown.
struct HangupReloadService: Service {
    let logger: Logger
    let reload: @Sendable () async -> Void

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading")
            await reload()
        }
    }
}
