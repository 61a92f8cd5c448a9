import Logging
import NIOPosix
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// Drains the ``AuditQueue`` into the audit log file: each batch is written and fsynced on
/// NIO's thread pool as soon as it is woken, so an event is on disk a few milliseconds after
/// its response was sent (an fsync's time under load, which batches the events that arrive
/// meanwhile). Runs in the application's service group, which stops it only after the HTTP
/// server has drained, so the last requests' events are written before the process exits.
struct AuditLogService: Service {
    let queue: AuditQueue
    let file: AuditLogFile
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in queue.wakeups {
                await flush()
            }
        } onGracefulShutdown: {
            queue.finish()
        }
        await flush()
        file.close()
    }

    private func flush() async {
        let (events, dropped) = queue.take()
        if dropped > 0 {
            logger.error("audit log: \(dropped) events dropped; the disk did not keep up", metadata: ["path": "\(file.path)"])
        }
        guard !events.isEmpty else { return }
        let file = self.file
        do {
            // Not runIfActive's cancellation: a batch taken from the queue is written.
            try await NIOThreadPool.singleton.runIfActive { try file.append(events) }
        } catch {
            logger.error(
                "audit log: writing \(events.count) events failed", metadata: ["path": "\(file.path)", "error": "\(error)"])
        }
    }
}
