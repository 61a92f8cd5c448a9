import ArgumentParser
import Foundation
import RegistryStorage

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the registry into DIR, consistently, while registryd serves.",
        discussion: """
            Copies the database with SQLite's online backup API and hard-links (or, on another \
            file system, copies) every blob that copy records, then flushes DIR to disk. DIR must \
            be new or empty. It is laid out as a storage root: to restore, stop registryd, copy \
            DIR to the new storage.filesystem.rootdirectory and start registryd.
            """)

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Flag(name: .long, help: "Print the summary as one JSON object.")
    var json = false

    @Argument(help: "The folder to write the backup into.")
    var directory: String

    func run() async throws {
        let storage = try await OpenedStorage.open(config: config)
        guard let backup = storage.stores.backup else {
            Console.error("backup copies the embedded stores (filesystem and SQLite); these stores are backed up with their own tools")
            throw ExitCode.failure
        }
        let summary: RegistryBackup.Summary
        do {
            summary = try await backup.run(to: directory)
            try await storage.stores.close()
        } catch {
            Console.error("backup failed: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try Console.json(summary))
            return
        }
        print(
            "backup: \(summary.blobs) blobs (\(Console.bytes(summary.bytes))) "
                + "\(summary.linked ? "hard-linked" : "copied") into \(directory) "
                + "in \(String(format: "%.2f", summary.seconds))s")
    }
}
