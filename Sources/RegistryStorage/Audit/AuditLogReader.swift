import Foundation
import RegistryCore

/// Reads the audit trail: the rotated files oldest first (`<path>.<n>` down to `<path>.1`),
/// then the current file, so events come out in the order they were written.
public struct AuditLogReader: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The files that make up the trail, oldest first; those that do not exist are left out.
    public func files() -> [String] {
        let folder = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        let rotated = names.compactMap { name -> Int? in
            guard name.hasPrefix(base + "."), let index = Int(name.dropFirst(base.count + 1)), index > 0 else {
                return nil
            }
            return index
        }
        var result = rotated.sorted(by: >).map { "\(path).\($0)" }
        if FileManager.default.fileExists(atPath: path) { result.append(path) }
        return result
    }

    /// Every event, oldest first, that `include` accepts. Lines that are not events (a line
    /// torn by a crash mid-write) are skipped and counted.
    public func events(where include: (AuditEvent) -> Bool = { _ in true }) throws -> (events: [AuditEvent], skipped: Int) {
        var events: [AuditEvent] = []
        var skipped = 0
        for file in files() {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                guard let event = AuditEvent.parse(line: String(decoding: line, as: UTF8.self)) else {
                    skipped += 1
                    continue
                }
                if include(event) { events.append(event) }
            }
        }
        return (events, skipped)
    }
}
