import ArgumentParser
import Foundation
import RegistryCore
import RegistryStorage

extension GarbageCollect {
    /// `--retention`: first the expiry of mirrored content (each mirror's `expiry`,
    /// Distribution's `proxy.ttl`), then `berth.retention`'s policies (evaluated only, unless
    /// `berth.retention.enabled`), each deleting the tags it does not keep. The collection
    /// that follows removes what became untagged once older than `berth.retention.untaggedgrace`.
    func applyRetention(_ storage: OpenedStorage) async throws -> [RetentionReport] {
        let configuration = storage.configuration
        let retention = TagRetention(metadata: storage.stores.metadata, changes: storage.stores.changes)
        let expiry = try await retention.run(TagRetention.expiryPolicies(for: configuration), dryRun: dryRun)
        let settings = configuration.berth.retention
        let policies = try await retention.run(settings.policies, dryRun: dryRun || !settings.enabled)
        if !settings.enabled, !settings.policies.isEmpty {
            Console.error("berth.retention.enabled is false: the policies were evaluated; the tags they would delete are kept")
        }
        return [expiry, policies]
    }

    func printRetention(_ reports: [RetentionReport]) {
        for report in reports {
            for decision in report.decisions where !decision.keep {
                print("\(report.dryRun ? "would delete" : "deleted") tag \(decision.repository):\(decision.tag) (\(decision.reason))")
            }
        }
    }
}

/// What `registryctl gc --retention --json` prints: the tags retention decided on, and the
/// collection that followed.
struct RetentionAndCollection: Encodable {
    var retention: [RetentionReport]
    var gc: CollectionReport
}
