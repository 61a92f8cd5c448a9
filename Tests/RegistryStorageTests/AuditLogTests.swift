import Foundation
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The audit log file: appends, rotation by size, reading across rotated files, two writers.
@Suite struct AuditLogTests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "berth-audit-" + UUID().uuidString
    }

    func event(_ index: Int, user: String = "alice", repository: String = "team/app") -> AuditEvent {
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_764_680_000 + Double(index)), action: .blobUpload, user: user,
            client: "127.0.0.1", repository: repository, digest: "sha256:" + String(repeating: "0", count: 58)
                + String(format: "%06d", index), status: 201)
    }

    @Test func appendsCreateTheFolderAndFileWithOwnerOnlyMode() throws {
        let path = folder + "/nested/audit.log"
        let log = try AuditLogFile(path: path, maxSize: 1 << 20, maxBackups: 3)
        try log.append([event(1), event(2)])
        try log.append([event(3)])
        log.close()
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let events = try AuditLogReader(path: path).events().events
        #expect(events == [event(1), event(2), event(3)])
    }

    @Test func rotatesBySizeKeepsMaxBackupsAndReadsOldestFirst() throws {
        let path = folder + "/audit.log"
        let lineSize = try event(0).jsonLine().count
        // Three lines a file.
        let log = try AuditLogFile(path: path, maxSize: Int64(lineSize * 3), maxBackups: 2)
        for index in 0..<12 { try log.append([event(index)]) }
        log.close()
        let reader = AuditLogReader(path: path)
        #expect(reader.files() == [path + ".2", path + ".1", path])
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        for file in reader.files() {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(size <= lineSize * 3)
        }
        // The oldest six went with the dropped files; the rest are in order.
        #expect(try reader.events().events == (3..<12).map { event($0) })
    }

    @Test func readerFiltersAndSkipsATornLastLine() throws {
        let path = folder + "/audit.log"
        let log = try AuditLogFile(path: path, maxSize: 1 << 20, maxBackups: 2)
        try log.append([event(1, user: "alice"), event(2, user: "bob", repository: "other"), event(3, user: "alice")])
        log.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"time\":\"2025-12-".utf8))
        try handle.close()
        let result = try AuditLogReader(path: path).events { $0.user == "alice" }
        #expect(result.events == [event(1), event(3)])
        #expect(result.skipped == 1)
    }

    @Test func twoWritersOnOneFileLoseNothingAcrossRotations() async throws {
        let path = folder + "/audit.log"
        let lineSize = try event(0).jsonLine().count
        let maxSize = Int64(lineSize * 10)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<2 {
                group.addTask {
                    guard let log = try? AuditLogFile(path: path, maxSize: maxSize, maxBackups: 100) else { return }
                    for index in 0..<50 { try? log.append([event(writer * 1000 + index)]) }
                    log.close()
                }
            }
        }
        let events = try AuditLogReader(path: path).events().events
        #expect(events.count == 100)
        #expect(Set(events.map(\.digest)).count == 100)
        for file in AuditLogReader(path: path).files() {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
            #expect(size <= Int(maxSize))
        }
    }
}
