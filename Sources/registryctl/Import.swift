import ArgumentParser
import Foundation
import RegistryStorage
import Synchronization

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Take over a Distribution (registry:2) storage tree: repositories, tags, manifests and blobs.",
        discussion: """
            Reads DIR (Distribution's storage.filesystem.rootdirectory) without changing it. Every blob \
            is re-hashed; blobs are hard-linked when DIR is on the storage root's file system, copied \
            otherwise. Safe while registryd serves. A second run imports only what is missing. \
            Corrupt or missing blobs are reported with the manifests and tags that need them, and the \
            rest is imported. Exit status 1 when anything could not be imported.
            """)

    @Option(name: .long, help: "Distribution's storage root (holding docker/registry/v2).")
    var from: String

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Flag(name: .long, help: "Verify and count; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    func run() async throws {
        let tree: DistributionTree
        do {
            tree = try DistributionTree(root: from)
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        let storage = try await OpenedStorage.open(config: config)
        let stores = storage.stores
        let bar = ProgressBar()
        let report: ImportReport
        do {
            report = try await DistributionImport(tree: tree, blobs: stores.blobs, metadata: stores.metadata, changes: stores.changes)
                .run(dryRun: dryRun) { bar.show($0) }
            try await stores.close()
        } catch {
            Console.error("import failed: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try Console.json(report))
        } else {
            for problem in report.problems {
                print("\(problem.kind): \(problem.repository) \(problem.reference): \(problem.detail)")
            }
            let verb = dryRun ? "would import" : "imported"
            let rate = report.seconds > 0 ? Double(report.bytesVerified) / report.seconds : 0
            print(
                "import\(dryRun ? " (dry run)" : ""): \(report.repositories) repositories; \(verb) "
                    + "\(report.blobsImported) blobs (\(Console.bytes(report.bytesImported)), \(report.blobsLinked) hard-linked), "
                    + "\(report.manifestsImported) manifests, \(report.tagsImported) tags; "
                    + "\(report.blobsShared) blobs shared, \(report.blobsSkipped + report.manifestsSkipped) already there; "
                    + "\(report.problems.count) problems; \(String(format: "%.1f", report.seconds))s, "
                    + "\(Console.bytes(Int64(rate)))/s verified")
        }
        if !report.problems.isEmpty { throw ExitCode.failure }
    }
}

/// One line on stderr, redrawn: blobs, bytes, rate and time left; only on a terminal.
final class ProgressBar: Sendable {
    private let start = ContinuousClock.now
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func show(_ progress: ImportProgress) {
        guard isatty(2) != 0 else { return }
        let now = ContinuousClock.now
        let done = progress.blobsDone == progress.blobsTotal
        let due = last.withLock { last -> Bool in
            if let previous = last, now - previous < .milliseconds(200), !done { return false }
            last = now
            return true
        }
        guard due else { return }
        let elapsed = (now - start).inSeconds
        let rate = elapsed > 0 ? Double(progress.bytesDone) / elapsed : 0
        let left = rate > 0 ? Double(progress.bytesTotal - progress.bytesDone) / rate : 0
        let fraction = progress.bytesTotal > 0 ? Double(progress.bytesDone) / Double(progress.bytesTotal) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(
            format: "\r[%@] %d/%d blobs, %@ of %@, %@/s, %ds left%@", bar, progress.blobsDone, progress.blobsTotal,
            Console.bytes(progress.bytesDone), Console.bytes(progress.bytesTotal), Console.bytes(Int64(rate)),
            Int(left), done ? "\n" : "")
        FileHandle.standardError.write(Data(line.utf8))
    }
}
