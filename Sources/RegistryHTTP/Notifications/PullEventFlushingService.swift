import Logging
import RegistryService
import ServiceLifecycle

/// Writes the pull events the API queued every ``EventNotifier/pullInterval``. The last
/// write, after the listener has drained, is ``RegistryServer``'s, before the stores close.
struct PullEventFlushingService: Service {
    let notifier: EventNotifier
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: EventNotifier.pullInterval) }
            await Self.flush(notifier, logger: logger)
        }
    }

    /// One write; a failure is logged (the events are kept for the next one), never thrown.
    static func flush(_ notifier: EventNotifier, logger: Logger) async {
        do {
            try await notifier.flushPulls()
        } catch {
            logger.warning(
                "writing pull events failed", metadata: ["error": "\(error)", "pending": "\(notifier.pendingPullCount)"])
        }
    }
}
