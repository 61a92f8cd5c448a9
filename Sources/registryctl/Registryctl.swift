import ArgumentParser
import Foundation

@main
struct Registryctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registryctl",
        abstract: "Administer a Berth registry: garbage collection, consistency checks, backups, certificates and users.",
        discussion: "Exit status: 0 success, 1 failure (or, for fsck, problems found), 2 bad arguments or configuration.",
        version: "0.1.0",
        subcommands: [
            GarbageCollect.self, Fsck.self, Backup.self, Import.self, Health.self, Certs.self, HTPasswd.self, Audit.self,
            DatabaseCommand.self, Migrate.self,
        ])

    /// Runs the command line, with exit status 2 for bad arguments (ArgumentParser's own is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
