import GRDB
import RegistryCore

extension SQLiteMetadataStore {
    /// Copies the database to a new file at `destination` with SQLite's online backup API and
    /// returns the digests of the blobs the copy records.
    ///
    /// Everything runs inside one `BEGIN IMMEDIATE` transaction, which holds the database's
    /// write lock across processes, and `whileLocked` runs before it is released. Blob files
    /// are placed and deleted only under that lock (see ``recordBlob(_:size:in:completingUpload:place:)``
    /// and garbage collection), so every blob the copy records still has its file while
    /// `whileLocked` runs, and no blob can appear or vanish in between.
    ///
    /// The copy drops upload sessions (their staging files are not part of a backup) and
    /// pending blob deletions (their files are not copied either).
    public func backup(to destination: String, whileLocked: ([Digest]) throws -> Void) throws {
        try pool.write { db in
            // The snapshot is read through a connection of its own: SQLite's backup cannot read
            // through a connection that holds the write lock. Nothing commits meanwhile.
            var readOnly = Configuration()
            readOnly.readonly = true
            let source = try DatabaseQueue(path: path, configuration: readOnly)
            let copy = try DatabaseQueue(path: destination)
            try source.backup(to: copy)
            try source.close()
            try copy.write { copyDB in
                try copyDB.execute(sql: "DELETE FROM upload; DELETE FROM blob_deletion")
            }
            try copy.close()
            let digests = try String.fetchAll(db, sql: "SELECT digest FROM blob ORDER BY digest")
                .map { try Digest(parsing: $0) }
            try whileLocked(digests)
        }
    }
}
