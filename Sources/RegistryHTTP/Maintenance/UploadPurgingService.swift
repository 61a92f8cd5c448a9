import Logging
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// `storage.maintenance.uploadpurging`: removes abandoned upload sessions every `interval`.
struct UploadPurgingService: Service {
    let purger: UploadPurger
    let settings: RegistryConfiguration.UploadPurging
    let logger: Logger

    func run() async throws {
        // Cancelled (another service failed, e.g. the port was taken): stop, do not spin.
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let ids = try await purger.purge(olderThan: settings.age, dryRun: settings.dryRun)
                if !ids.isEmpty {
                    logger.notice(
                        "\(settings.dryRun ? "would purge" : "purged") stale uploads", metadata: ["count": "\(ids.count)"])
                }
            } catch {
                logger.error("upload purging failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
        }
    }
}
