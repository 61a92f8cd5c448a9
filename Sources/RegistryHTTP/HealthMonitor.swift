import Logging
import RegistryStorage
import ServiceLifecycle
import Synchronization

/// Checks that storage takes writes and the database answers.
///
/// With `health.storagedriver.enabled` it runs every `interval` as a service; after `threshold`
/// failures in a row the registry reports itself unavailable until a check passes again.
final class HealthMonitor: Service, Sendable {
    struct Report: Sendable {
        var storage: String?
        var database: String?

        var healthy: Bool { storage == nil && database == nil }
    }

    private let blobs: any BlobStore
    private let metadata: any MetadataStore
    private let interval: Duration
    private let threshold: Int
    private let logger: Logger
    private let consecutiveFailures = Atomic<Int>(0)

    init(blobs: any BlobStore, metadata: any MetadataStore, interval: Duration, threshold: Int, logger: Logger) {
        self.blobs = blobs
        self.metadata = metadata
        self.interval = interval
        self.threshold = threshold
        self.logger = logger
    }

    /// False once the periodic check has failed `threshold` times in a row.
    var isServing: Bool { consecutiveFailures.load(ordering: .relaxed) < threshold }

    /// Runs both checks now.
    func check() async -> Report {
        var report = Report()
        do { try await blobs.checkWritable() } catch { report.storage = "storage is not writable" }
        do { try await metadata.ping() } catch { report.database = "database does not answer" }
        return report
    }

    /// Sleeps, returning early when a graceful shutdown begins.
    private func gracefulShutdown(orSleepFor duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let report = await check()
            if report.healthy {
                if consecutiveFailures.exchange(0, ordering: .relaxed) >= threshold {
                    logger.notice("health check passes again; serving")
                }
            } else {
                let failures = consecutiveFailures.add(1, ordering: .relaxed).newValue
                logger.error(
                    "health check failed",
                    metadata: [
                        "storage": "\(report.storage ?? "ok")", "database": "\(report.database ?? "ok")",
                        "failures": "\(failures)",
                    ])
            }
            try? await gracefulShutdown(orSleepFor: interval)
        }
    }
}
