import Foundation
import GRDB
import RegistryCore

/// Manifests, their references, and tags.
extension SQLiteMetadataStore {
    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws {
        try await putManifest(manifest, in: repository, tag: tag, events: [])
    }

    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?, events: [RegistryEvent])
        async throws
    {
        let events = try RegistryEvent.encodedForOutbox(events)
        try await write { db in
            try Self.insertManifest(manifest, in: repository, tag: tag, now: Self.now, in: db)
            try Self.appendOutbox(events, in: db)
        }
    }

    /// The checks and rows of one manifest put, inside the caller's transaction.
    static func insertManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?, now: Double, in db: Database)
        throws
    {
        let repositoryID = try Self.repositoryID(repository, in: db, create: true)
        for blob in manifest.requiredBlobs {
            let size = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                        WHERE rb.repository_id = ? AND rb.digest = ?
                        """),
                arguments: [repositoryID, blob.digest.description])
            try blob.requireStored(size: size, as: .blob)
        }
        for child in manifest.requiredChildren {
            let size = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT size FROM manifest WHERE repository_id = ? AND digest = ?"),
                arguments: [repositoryID, child.digest.description])
            try child.requireStored(size: size, as: .manifest)
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO manifest (repository_id, digest, media_type, size, content, subject, artifact_type, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(repository_id, digest) DO NOTHING
                """
        ).execute(
            arguments: [
                repositoryID, manifest.digest.description, manifest.mediaType, manifest.bytes.count,
                Data(manifest.bytes), manifest.subject?.digest.description, manifest.artifactType, now,
            ])
        guard
            let manifestID = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM manifest WHERE repository_id = ? AND digest = ?"),
                arguments: [repositoryID, manifest.digest.description])
        else { throw RegistryError(.unknown, "manifest row vanished during its own transaction") }
        for blob in Set(manifest.blobReferences.map(\.digest)) {
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO manifest_blob (manifest_id, digest) VALUES (?, ?)"
            ).execute(
                arguments: [manifestID, blob.description])
        }
        for child in Set(manifest.children.map(\.digest)) {
            try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO manifest_child (manifest_id, child_digest) VALUES (?, ?)"
            ).execute(
                arguments: [manifestID, child.description])
        }
        if let tag {
            try db.cachedStatement(
                sql: """
                    INSERT INTO tag (repository_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,
                        updated_at = excluded.updated_at
                    """
            ).execute(
                arguments: [repositoryID, tag.value, manifestID, now])
        }
    }

    public func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest? {
        try await read { db in
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
        try await deleteManifest(digest, in: repository, events: [])
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName, events: [RegistryEvent]) async throws
        -> Bool
    {
        let events = try RegistryEvent.encodedForOutbox(events)
        return try await write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            // Tags, blob references and child references go with it (ON DELETE CASCADE).
            try db.execute(
                sql: "DELETE FROM manifest WHERE repository_id = ? AND digest = ?",
                arguments: [repositoryID, digest.description])
            guard db.changesCount > 0 else { return false }
            try Self.appendOutbox(events, in: db)
            return true
        }
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool {
        try await deleteTag(tag, in: repository, events: [])
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool {
        let events = try RegistryEvent.encodedForOutbox(events)
        return try await write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            try db.execute(
                sql: "DELETE FROM tag WHERE repository_id = ? AND name = ?", arguments: [repositoryID, tag.value])
            guard db.changesCount > 0 else { return false }
            try Self.appendOutbox(events, in: db)
            return true
        }
    }
}
