import Foundation
import GRDB
import RegistryCore

extension SQLiteMetadataStore: SnapshottingMetadataStore {
    /// Copies the database to a new file at `destination` with SQLite's online backup API and
    /// pins the blobs the copy records.
    ///
    /// The pin is written in the same write transaction in which the copy is taken (SQLite's
    /// backup reads through a connection of its own, and nothing commits meanwhile), so every
    /// blob the copy records had its row, hence its bytes, at that moment; and while the pin
    /// lives garbage collection claims no deletion (see ``GarbageCollector``), so the bytes
    /// stay until ``release(_:)``. The write lock is held only for the copy, not while the
    /// blobs are linked or copied.
    ///
    /// The copy drops upload sessions (their staged bytes are not part of a backup), queued
    /// deletions (their bytes are not copied either), reservations and pins.
    public func snapshot(to destination: String) async throws -> MetadataSnapshot {
        let pin = UUID().uuidString.lowercased()
        let path = self.path
        let blobs = try await write { db in
            try db.execute(
                sql: "INSERT INTO blob_pin (token, expires_at) VALUES (?, ?)",
                arguments: [pin, Self.now + MetadataSnapshot.pinLifetime.inSeconds])
            var readOnly = Configuration()
            readOnly.readonly = true
            let source = try DatabaseQueue(path: path, configuration: readOnly)
            let copy = try DatabaseQueue(path: destination)
            try source.backup(to: copy)
            try source.close()
            try copy.write { copyDB in
                try copyDB.execute(
                    sql: "DELETE FROM upload; DELETE FROM blob_deletion; DELETE FROM blob_reservation; DELETE FROM blob_pin")
            }
            try copy.close()
            return try String.fetchAll(db, sql: "SELECT digest FROM blob ORDER BY digest").map { try Digest(parsing: $0) }
        }
        return MetadataSnapshot(pin: pin, blobs: blobs)
    }

    public func release(_ snapshot: MetadataSnapshot) async throws {
        try await lightWrite { db in
            try db.execute(sql: "DELETE FROM blob_pin WHERE token = ?", arguments: [snapshot.pin])
        }
    }
}
