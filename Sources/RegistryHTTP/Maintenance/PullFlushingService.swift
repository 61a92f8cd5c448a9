import Logging
import RegistryService
import ServiceLifecycle

/// Writes the pulls the API noted every ``PullRecorder/interval``. The last flush, after the
/// listener has drained, is ``RegistryServer``'s, just before the stores close.
struct PullFlushingService: Service {
    let recorder: PullRecorder
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: PullRecorder.interval) }
            await Self.flush(recorder, logger: logger)
        }
    }

    /// One flush; a failure is logged (the pulls are kept for the next one), never thrown.
    static func flush(_ recorder: PullRecorder, logger: Logger) async {
        do {
            try await recorder.flush()
        } catch {
            logger.warning("recording pull times failed", metadata: ["error": "\(error)", "pending": "\(recorder.pendingCount)"])
        }
    }
}
