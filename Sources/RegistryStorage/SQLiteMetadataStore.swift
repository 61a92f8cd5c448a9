import Foundation
import GRDB
import RegistryCore

/// The metadata store on one SQLite file (GRDB `DatabasePool`, WAL, `synchronous=FULL`),
/// so that a committed transaction survives power loss.
public final class SQLiteMetadataStore: MetadataStore {
    public let path: String
    let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(15)
        configuration.label = "registry"
        pool = try DatabasePool(path: path, configuration: configuration)
        // Set on the writer after the pool is open: GRDB turns WAL on with `synchronous =
        // NORMAL` after `prepareDatabase` runs, and NORMAL does not fsync the WAL at commit
        // (a committed row could vanish on power loss). tests/integration/test_durability_trace.py
        // checks the fsync in the system calls.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try SQLiteSchema.migrator.migrate(pool)
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL).
    func writerSynchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Checkpoints the WAL and closes the database.
    public func close() throws {
        pool.writeWithoutTransaction { db in
            _ = try? db.checkpoint(.truncate)
        }
        try pool.close()
    }

    private static var now: Double { Date().timeIntervalSince1970 }

    /// Runs a read of ONE statement on the calling thread, outside an explicit transaction.
    ///
    /// In WAL mode a reader never waits for the writer, so a point query costs less here than
    /// the two thread hops of an async read; and a single statement already reads one
    /// consistent snapshot, so BEGIN/COMMIT would add nothing but cost. Reads of several
    /// statements use `pool.read`. Writes stay asynchronous: they wait for the write lock and fsync.
    private func singleStatementRead<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
    }

    /// Runs a short read of several statements on the calling thread, in one read transaction.
    private func snapshotRead<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    // MARK: Uploads

    public func createUpload(id: String, repository: RepositoryName) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO upload (id, repository, started_at) VALUES (?, ?, ?)",
                arguments: [id, repository.value, Self.now])
        }
    }

    public func upload(id: String) async throws -> UploadSession? {
        try singleStatementRead { db in
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT repository, started_at FROM upload WHERE id = ?"), arguments: [id])
            guard let row, let repository = try? RepositoryName(row[0] as String) else { return nil }
            return UploadSession(id: id, repository: repository, startedAt: Date(timeIntervalSince1970: row[1]))
        }
    }

    public func deleteUpload(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM upload WHERE id = ?", arguments: [id])
        }
    }

    public func uploadIDs() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM upload")) }
    }

    // MARK: Blobs

    public func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64? {
        try singleStatementRead { db in
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT b.size FROM repository r
                    JOIN repository_blob rb ON rb.repository_id = r.id
                    JOIN blob b ON b.digest = rb.digest
                    WHERE r.name = ? AND rb.digest = ?
                    """),
                arguments: [repository.value, digest.description])
        }
    }

    public func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, completingUpload: String?,
        place: @escaping @Sendable () throws -> Void
    ) async throws {
        try await pool.write { db in
            let now = Self.now
            try place()
            try db.execute(
                sql: "INSERT INTO blob (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT(digest) DO NOTHING",
                arguments: [digest.description, size, now])
            let repositoryID = try Self.repositoryID(repository, in: db, create: true)
            try Self.link(digest, into: repositoryID, in: db, at: now)
            if let completingUpload {
                try db.execute(sql: "DELETE FROM upload WHERE id = ?", arguments: [completingUpload])
            }
        }
    }

    public func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool {
        try await pool.write { db in
            guard let sourceID = try Self.repositoryID(source, in: db, create: false),
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM repository_blob WHERE repository_id = ? AND digest = ?",
                    arguments: [sourceID, digest.description]) != nil
            else { return false }
            let repositoryID = try Self.repositoryID(repository, in: db, create: true)
            try Self.link(digest, into: repositoryID, in: db, at: Self.now)
            return true
        }
    }

    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool {
        try await pool.write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            try db.execute(
                sql: "DELETE FROM repository_blob WHERE repository_id = ? AND digest = ?",
                arguments: [repositoryID, digest.description])
            return db.changesCount > 0
        }
    }

    // MARK: Manifests

    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws {
        try await pool.write { db in
            let now = Self.now
            let repositoryID = try Self.repositoryID(repository, in: db, create: true)
            for blob in manifest.blobReferences {
                let size = try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                        WHERE rb.repository_id = ? AND rb.digest = ?
                        """,
                    arguments: [repositoryID, blob.digest.description])
                guard let size else {
                    throw RegistryError(
                        .manifestBlobUnknown, "blob unknown to repository", detail: blob.digest.description)
                }
                guard size == blob.size else {
                    throw RegistryError(
                        .manifestInvalid, "descriptor size does not match the stored blob",
                        detail: "\(blob.digest): declared \(blob.size), stored \(size)")
                }
            }
            for child in manifest.children {
                let size = try Int64.fetchOne(
                    db, sql: "SELECT size FROM manifest WHERE repository_id = ? AND digest = ?",
                    arguments: [repositoryID, child.digest.description])
                guard let size else {
                    throw RegistryError(
                        .manifestBlobUnknown, "manifest unknown to repository", detail: child.digest.description)
                }
                guard size == child.size else {
                    throw RegistryError(
                        .manifestInvalid, "descriptor size does not match the stored manifest",
                        detail: "\(child.digest): declared \(child.size), stored \(size)")
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO manifest (repository_id, digest, media_type, size, content, subject, artifact_type, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(repository_id, digest) DO NOTHING
                    """,
                arguments: [
                    repositoryID, manifest.digest.description, manifest.mediaType, manifest.bytes.count,
                    Data(manifest.bytes), manifest.subject?.digest.description, manifest.artifactType, now,
                ])
            guard
                let manifestID = try Int64.fetchOne(
                    db, sql: "SELECT id FROM manifest WHERE repository_id = ? AND digest = ?",
                    arguments: [repositoryID, manifest.digest.description])
            else { throw RegistryError(.unknown, "manifest row vanished during its own transaction") }
            for blob in Set(manifest.blobReferences.map(\.digest)) {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO manifest_blob (manifest_id, digest) VALUES (?, ?)",
                    arguments: [manifestID, blob.description])
            }
            for child in Set(manifest.children.map(\.digest)) {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO manifest_child (manifest_id, child_digest) VALUES (?, ?)",
                    arguments: [manifestID, child.description])
            }
            if let tag {
                try db.execute(
                    sql: """
                        INSERT INTO tag (repository_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,
                            updated_at = excluded.updated_at
                        """,
                    arguments: [repositoryID, tag.value, manifestID, now])
            }
        }
    }

    public func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest? {
        try singleStatementRead { db in
            let columns = "m.digest, m.media_type, m.content, m.subject, m.artifact_type"
            let row: Row?
            switch reference {
            case .tag(let tag):
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT \(columns) FROM repository r
                            JOIN tag t ON t.repository_id = r.id JOIN manifest m ON m.id = t.manifest_id
                            WHERE r.name = ? AND t.name = ?
                            """),
                    arguments: [repository.value, tag.value])
            case .digest(let digest):
                row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT \(columns) FROM repository r
                            JOIN manifest m ON m.repository_id = r.id WHERE r.name = ? AND m.digest = ?
                            """),
                    arguments: [repository.value, digest.description])
            }
            guard let row, let digest = try? Digest(parsing: row[0] as String) else { return nil }
            let content: Data = row[2]
            return StoredManifest(
                digest: digest, mediaType: row[1], bytes: [UInt8](content),
                subject: (row[3] as String?).flatMap { try? Digest(parsing: $0) }, artifactType: row[4])
        }
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool {
        try await pool.write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            // Tags, blob references and child references go with it (ON DELETE CASCADE).
            try db.execute(
                sql: "DELETE FROM manifest WHERE repository_id = ? AND digest = ?",
                arguments: [repositoryID, digest.description])
            return db.changesCount > 0
        }
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool {
        try await pool.write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            try db.execute(
                sql: "DELETE FROM tag WHERE repository_id = ? AND name = ?", arguments: [repositoryID, tag.value])
            return db.changesCount > 0
        }
    }

    // MARK: Listing

    public func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]? {
        try snapshotRead { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return nil }
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT name FROM tag WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?"),
                arguments: [repositoryID, last ?? "", limit ?? -1])
        }
    }

    public func repositories(after last: String?, limit: Int?) async throws -> [String] {
        try singleStatementRead { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT name FROM repository WHERE name > ? ORDER BY name LIMIT ?"),
                arguments: [last ?? "", limit ?? -1])
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Helpers

    static func repositoryID(_ repository: RepositoryName, in db: Database, create: Bool) throws -> Int64? {
        if let id = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM repository WHERE name = ?"), arguments: [repository.value])
        {
            return id
        }
        guard create else { return nil }
        try db.execute(
            sql: "INSERT INTO repository (name, created_at) VALUES (?, ?)", arguments: [repository.value, now])
        return db.lastInsertedRowID
    }

    private static func link(_ digest: Digest, into repositoryID: Int64?, in db: Database, at time: Double) throws {
        try db.execute(
            sql: """
                INSERT INTO repository_blob (repository_id, digest, linked_at) VALUES (?, ?, ?)
                ON CONFLICT(repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at
                """,
            arguments: [repositoryID, digest.description, time])
    }
}
