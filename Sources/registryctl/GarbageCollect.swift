import ArgumentParser
import Foundation
import RegistryCore
import RegistryStorage

struct GarbageCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove unreferenced manifests and blobs, safely while registryd serves.",
        discussion: """
            Keeps every tagged manifest, every manifest unless --delete-untagged, the children of \
            kept indexes and the referrers of kept manifests, and everything pushed within --grace. \
            Also purges upload sessions older than storage.maintenance.uploadpurging.age.
            """)

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Flag(name: .long, help: "Print what would be removed; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Also remove manifests that no tag names.")
    var deleteUntagged = false

    @Option(name: .long, help: "Keep what was pushed within this long (Go duration: 1h, 30m, 0s).")
    var grace = "1h"

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    @Flag(
        name: .long,
        help: "First delete the tags that berth.retention's policies (when enabled) and the mirrors' expiry do not keep; then remove untagged manifests older than berth.retention.untaggedgrace.")
    var retention = false

    func validate() throws {
        guard GoDuration.parse(grace) != nil else {
            throw ValidationError("--grace: expected a duration such as 1h, 30m or 0s, got \"\(grace)\"")
        }
    }

    func run() async throws {
        let storage = try await OpenedStorage.open(config: config)
        let stores = storage.stores
        var retained: [RetentionReport]?
        if retention {
            do {
                retained = try await applyRetention(storage)
            } catch {
                Console.error("retention failed: \(error)")
                throw ExitCode.failure
            }
        }
        let options = CollectionOptions(
            // Retention deletes tags; what they named goes only if untagged manifests are removed.
            deleteUntagged: deleteUntagged || (retention && TagRetention.applies(storage.configuration)),
            grace: retention ? storage.configuration.berth.retention.untaggedGrace : GoDuration.parse(grace) ?? .seconds(3600),
            uploadAge: storage.configuration.storage.uploadPurging.age, dryRun: dryRun)
        let collector = GarbageCollector(blobs: stores.blobs, metadata: stores.metadata, changes: stores.changes)
        let report: CollectionReport
        do {
            report = try await collector.run(options, progress: { done, total in
                Console.progress("deleting blob files", done, total)
            })
            try await stores.close()
        } catch {
            Console.error("gc failed: \(error)")
            throw ExitCode.failure
        }
        if !dryRun, let audit = storage.configuration.berth.audit {
            do {
                try AuditLogFile(audit).append(report.auditEvents())
            } catch {
                Console.error("gc done, but the audit log \(audit.path) could not be written: \(error)")
                throw ExitCode.failure
            }
        }
        if json {
            if let retained {
                print(try Console.json(RetentionAndCollection(retention: retained, gc: report)))
            } else {
                print(try Console.json(report))
            }
            return
        }
        if let retained { printRetention(retained) }
        if dryRun {
            for manifest in report.manifests {
                print("would remove manifest \(manifest.repository)@\(manifest.digest)")
            }
            for blob in report.blobs {
                print("would remove blob \(blob.digest) (\(Console.bytes(blob.size)))")
            }
        }
        let verb = dryRun ? "would remove" : "removed"
        print(
            "gc\(dryRun ? " (dry run)" : ""): \(verb) \(report.manifestsRemoved) manifests, "
                + "\(report.blobsRemoved) blobs (\(Console.bytes(report.bytesFreed))), "
                + "\(report.uploadsRemoved) stale uploads in \(String(format: "%.2f", report.seconds))s")
    }
}
