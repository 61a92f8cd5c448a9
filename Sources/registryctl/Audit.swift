import ArgumentParser
import Foundation
import RegistryCommandLine
import RegistryCore
import RegistryStorage

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the audit trail: pushes, deletes, mounts, uploads, failed logins and gc runs.",
        discussion: """
            Reads berth.audit.path from config.yml (or --path), the current file and its rotated \
            files, oldest first. One line an event: time, action, user, client address, \
            repository, tag, digest, status; with --json the stored JSON lines as they are.
            """)

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Option(name: .long, help: "The audit log file (instead of berth.audit.path from config.yml).")
    var path: String?

    @Option(name: .long, help: "Only events of the last DURATION (Go duration: 24h, 30m), or since an RFC 3339 time.")
    var since: String?

    @Option(name: .long, help: "Only events of this user.")
    var user: String?

    @Option(name: .long, help: "Only events on this repository.")
    var repository: String?

    @Flag(name: .long, help: "Print the events as JSON lines.")
    var json = false

    func validate() throws {
        if let since, Self.start(since, now: Date()) == nil {
            throw ValidationError("--since: expected a duration such as 24h or a time such as 2026-12-01T00:00:00Z, got \"\(since)\"")
        }
    }

    func run() throws {
        let file = try auditPath()
        let start = since.flatMap { Self.start($0, now: Date()) }
        let reader = AuditLogReader(path: file)
        let result: (events: [AuditEvent], skipped: Int)
        do {
            result = try reader.events { event in
                (start.map { event.time >= $0 } ?? true) && (user.map { event.user == $0 } ?? true)
                    && (repository.map { event.repository == $0 || event.source == $0 } ?? true)
            }
        } catch {
            Console.error("cannot read the audit log \(file): \(error)")
            throw ExitCode.failure
        }
        if result.skipped > 0 {
            Console.error("warning: \(result.skipped) lines were not audit events (a line cut off by a crash?) and were skipped")
        }
        for event in result.events {
            if json {
                FileHandle.standardOutput.write(try event.jsonLine())
            } else {
                print(Self.text(event))
            }
        }
    }

    private func auditPath() throws -> String {
        if let path { return path }
        let configuration: RegistryConfiguration
        do {
            configuration = try ConfigurationFile.load(path: config).configuration
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        guard let audit = configuration.berth.audit else {
            Console.error("berth.audit.path is not set in the configuration; pass --path")
            throw ExitCode(2)
        }
        return audit.path
    }

    /// `24h` back from `now`, or an RFC 3339 time.
    static func start(_ text: String, now: Date) -> Date? {
        if let duration = GoDuration.parse(text) {
            return now.addingTimeInterval(-Double(duration.components.seconds))
        }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    static func text(_ event: AuditEvent) -> String {
        var fields = [event.time.formatted(.iso8601), event.action.rawValue, event.user ?? "-", event.client ?? "-"]
        var target = event.repository ?? "-"
        if let reference = event.reference { target += ":" + reference }
        if let digest = event.digest { target += "@" + digest }
        fields.append(target)
        if let status = event.status { fields.append(String(status)) }
        if let source = event.source { fields.append("from=\(source)") }
        if let removed = event.removed {
            fields.append("manifests=\(removed.manifests) blobs=\(removed.blobs) bytes=\(removed.bytes) uploads=\(removed.uploads)")
        }
        return fields.joined(separator: " ")
    }
}
