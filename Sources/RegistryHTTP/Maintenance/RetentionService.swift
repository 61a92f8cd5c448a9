import Logging
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// `berth.retention.schedule`: every `schedule`, the expiry of mirrored content and the
/// retention policies (evaluated only, unless `berth.retention.enabled`), then a garbage
/// collection that removes untagged manifests older than `untaggedgrace` and the blobs nothing
/// needs any more: what `registryctl gc --retention` does, online, from registryd itself.
struct RetentionService: Service {
    let retention: TagRetention
    let collector: GarbageCollector
    let configuration: RegistryConfiguration
    let logger: Logger

    func run() async throws {
        let settings = configuration.berth.retention
        guard let schedule = settings.schedule else { return }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: schedule) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
            do {
                let expired = try await retention.run(TagRetention.expiryPolicies(for: configuration), dryRun: false)
                let policies = try await retention.run(settings.policies, dryRun: !settings.enabled)
                let applies = TagRetention.applies(configuration)
                let collected = try await collector.run(
                    CollectionOptions(
                        deleteUntagged: applies, grace: settings.untaggedGrace,
                        uploadAge: configuration.storage.uploadPurging.age, dryRun: !applies))
                logger.notice(
                    "retention \(settings.enabled ? "applied" : "evaluated (berth.retention.enabled is false)")",
                    metadata: [
                        "expired_tags": "\(expired.tagsDeleted)",
                        "policy_tags": "\(settings.enabled ? policies.tagsDeleted : policies.tagsToDelete)",
                        "manifests": "\(collected.manifestsRemoved)", "blobs": "\(collected.blobsRemoved)",
                        "bytes": "\(collected.bytesFreed)",
                    ])
            } catch {
                logger.error("retention failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
