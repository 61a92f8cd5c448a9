import ArgumentParser
import Foundation
import RegistryCommandLine
import RegistryCore
import RegistryStorage

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a registry's content from the stores of one configuration into those of another.",
        discussion: """
            Copies every repository's blobs, manifests, referrers and tags from the stores FROM names \
            (filesystem or S3 blobs, SQLite or PostgreSQL metadata) into those TO names. The source is \
            only read: registryd may serve from it meanwhile. Every blob is re-hashed on the way. A \
            second run copies only what is missing, so an interrupted run is completed by running it \
            again. Blobs that cannot be read as recorded are reported with the manifests and tags that \
            need them, and the rest is copied. Exit status 1 when anything could not be copied, 2 for \
            a bad configuration.
            """)

    @Option(name: .long, help: "config.yml of the registry to copy from (only read).")
    var from: String

    @Option(name: .long, help: "config.yml of the registry to copy into.")
    var to: String

    @Option(name: .long, help: "Directory for blobs on their way from a store that is not a directory (default: the temporary directory).")
    var spool: String?

    @Flag(name: .long, help: "Verify and count what would be copied; change nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    func run() async throws {
        AllocatorSetup.tune()  // S3 parts on their way to a bucket: memory returned after each
        let sourceConfiguration = try OpenedStorage.loadConfiguration(from)
        let destinationConfiguration = try OpenedStorage.loadConfiguration(to)
        // Blobs may stay where they are (one bucket for both: only the metadata moves), but a
        // copy into the metadata it reads from would find everything there and copy nothing.
        let metadata = Self.metadataLocation(sourceConfiguration)
        guard metadata != Self.metadataLocation(destinationConfiguration) else {
            Console.error("--from and --to use the same metadata store (\(metadata))")
            throw ExitCode(2)
        }
        let source = try await open(sourceConfiguration.storage.rootDirectory) {
            try await RegistryStores.open(sourceConfiguration)
        }
        let destination: RegistryStores
        do {
            destination = try await open(destinationConfiguration.storage.rootDirectory) {
                try await RegistryStores.open(destinationConfiguration)
            }
        } catch {
            try? await source.close()
            throw error
        }
        let spoolDirectory = (spool ?? NSTemporaryDirectory()) + "/berth-migrate-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: spoolDirectory) }
        let bar = ProgressBar()
        let report: MigrationReport
        do {
            report = try await StoreMigration(from: source, to: destination, spoolDirectory: spoolDirectory)
                .run(dryRun: dryRun) { bar.show($0) }
        } catch {
            Console.error("migrate failed: \(error)")
            try? await source.close()
            try? await destination.close()
            throw ExitCode.failure
        }
        do {
            try await source.close()
            try await destination.close()
        } catch {
            Console.error("closing the stores failed: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try Console.json(report))
        } else {
            print(summary(report, from: source.description, to: destination.description))
        }
        if !report.problems.isEmpty { throw ExitCode.failure }
    }

    /// Where a configuration's metadata lives: the PostgreSQL database, or the SQLite file.
    static func metadataLocation(_ configuration: RegistryConfiguration) -> String {
        if configuration.database.enabled { return "postgresql \(configuration.database.description)" }
        return "sqlite " + URL(fileURLWithPath: configuration.databasePath).standardizedFileURL.resolvingSymlinksInPath().path
    }

    private func open(_ root: String, _ opening: () async throws -> RegistryStores) async throws -> RegistryStores {
        do {
            return try await opening()
        } catch {
            Console.error("cannot open storage at \(root): \(error)")
            throw ExitCode.failure
        }
    }

    private func summary(_ report: MigrationReport, from: String, to: String) -> String {
        var lines = report.problems.map { "\($0.kind): \($0.repository) \($0.reference): \($0.detail)" }
        let verb = dryRun ? "would copy" : "copied"
        let rate = report.seconds > 0 ? Double(report.bytesVerified) / report.seconds : 0
        lines.append(
            "migrate\(dryRun ? " (dry run)" : "") from \(from) to \(to): \(report.repositories) repositories; \(verb) "
                + "\(report.blobsCopied) blobs (\(Console.bytes(report.bytesCopied)), \(report.blobsLinked) hard-linked), "
                + "\(report.manifestsCopied) manifests"
                + (report.manifestsWithoutContent > 0 ? " (\(report.manifestsWithoutContent) without their blobs, as in the source)" : "")
                + ", \(report.tagsCopied) tags; \(report.blobsShared) blobs shared; "
                + "\(report.blobsSkipped + report.manifestsSkipped + report.tagsSkipped) already there; "
                + "\(report.problems.count) problems; \(String(format: "%.1f", report.seconds))s, "
                + "\(Console.bytes(Int64(rate)))/s verified")
        return lines.joined(separator: "\n")
    }
}
