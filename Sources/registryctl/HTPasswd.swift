import ArgumentParser
import Foundation
import HummingbirdBcrypt
import RegistryCore

struct HTPasswd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "htpasswd", abstract: "Manage the htpasswd file of auth.htpasswd.",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user, or replace the user's password, with a bcrypt entry.",
            discussion: """
                Reads the password from standard input (the first line), never from an argument. \
                Creates FILE with mode 0600 when it does not exist. registryd notices the change by itself.
                """)

        @Argument(help: "The htpasswd file.")
        var file: String

        @Argument(help: "The user name.")
        var user: String

        @Option(name: .long, help: "bcrypt cost (log2 of the rounds), 4 to 16.")
        var cost: UInt8 = 10

        func validate() throws {
            guard !user.isEmpty, !user.contains(":"), !user.contains(where: \.isNewline), !user.contains(" ") else {
                throw ValidationError("a user name must not be empty or contain ':', spaces or line breaks")
            }
            guard (4...16).contains(cost) else { throw ValidationError("--cost must be between 4 and 16") }
        }

        func run() throws {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                Console.error("no password on standard input")
                throw ExitCode(2)
            }
            let existing = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let text = HTPasswdEntries.replacing(user: user, hash: Bcrypt.hash(line, cost: cost), in: existing)
            let mode = (try? FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber) ?? NSNumber(value: 0o600)
            let temporary = file + ".tmp-\(getpid())"
            unlink(temporary)
            guard FileManager.default.createFile(
                atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: mode]),
                rename(temporary, file) == 0
            else {
                unlink(temporary)
                Console.error("cannot write \(file)")
                throw ExitCode.failure
            }
            print("\(existing.isEmpty ? "created \(file) with" : "updated \(file):") user \(user)")
        }
    }
}
