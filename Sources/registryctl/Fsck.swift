import ArgumentParser
import Foundation
import RegistryStorage

struct Fsck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Re-hash every blob and compare the files with the database.",
        discussion: """
            Reports corrupt blobs, rows without files, files without rows and manifests whose blobs \
            are missing. --repair moves corrupt files to <root>/quarantine/ and forgets missing blobs, \
            so that a client's next push uploads them again. Exit status 1 when anything is wrong.
            """)

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Flag(name: .long, help: "Quarantine corrupt blobs and forget missing ones.")
    var repair = false

    @Flag(name: .long, help: "Print the report as one JSON object.")
    var json = false

    func run() async throws {
        let stores = try await OpenedStorage.open(config: config).stores
        let report: ConsistencyReport
        do {
            report = try await ConsistencyCheck(blobs: stores.blobs, metadata: stores.metadata, changes: stores.changes)
                .run(repair: repair) { done, total in Console.progress("checking blobs", done, total) }
            try await stores.close()
        } catch {
            Console.error("fsck failed: \(error)")
            throw ExitCode.failure
        }
        if json {
            print(try Console.json(report))
        } else {
            for digest in report.corruptBlobs { print("corrupt blob \(digest)\(repair ? " (quarantined)" : "")") }
            for digest in report.missingFiles { print("missing file for blob \(digest)") }
            for digest in report.unrecordedFiles { print("file without a row: \(digest)") }
            for manifest in report.brokenManifests { print("manifest with a missing blob: \(manifest)") }
            print(
                "fsck: \(report.blobsChecked) blobs (\(Console.bytes(report.bytesChecked))) checked; "
                    + (report.isClean ? "clean" : "problems found\(report.repaired ? ", repaired" : "")"))
        }
        if !report.isClean { throw ExitCode.failure }
    }
}
