import Foundation
import GRDB
import RegistryCore

extension SQLiteMetadataStore: CollectableMetadataStore {
    public func sweep(_ options: CollectionOptions) async throws -> CollectionSweep {
        let now = Date().timeIntervalSince1970
        let cutoff = now - options.grace.inSeconds
        do {
            return try await pool.writeWithoutTransaction { db in
            var sweep = CollectionSweep()
            try db.inTransaction(.immediate) {
                try Self.mark(db, options: options, cutoff: cutoff)
                sweep.manifests = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT r.name, m.digest, m.size FROM manifest m JOIN repository r ON r.id = m.repository_id
                        WHERE m.id NOT IN (SELECT id FROM gc_keep) ORDER BY r.name, m.digest
                        """
                ).map { .init(repository: $0[0], digest: $0[1], size: $0[2]) }
                try db.execute(sql: "DELETE FROM manifest WHERE id NOT IN (SELECT id FROM gc_keep)")
                try db.execute(
                    sql: """
                        DELETE FROM repository_blob WHERE linked_at < ? AND NOT EXISTS (
                            SELECT 1 FROM manifest_blob mb JOIN manifest m ON m.id = mb.manifest_id
                            WHERE mb.digest = repository_blob.digest AND m.repository_id = repository_blob.repository_id)
                        """,
                    arguments: [cutoff])
                // Blobs that nothing links or references and that were stored before the grace
                // period: computed once, queued for file deletion, and their rows removed.
                try db.execute(
                    sql: """
                        CREATE TEMP TABLE gc_unused AS SELECT b.digest, b.size FROM blob b
                        WHERE b.created_at < ?
                        AND NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = b.digest)
                        AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = b.digest)
                        """,
                    arguments: [cutoff])
                try db.execute(
                    sql: "INSERT OR IGNORE INTO blob_deletion (digest, size, queued_at) SELECT digest, size, ? FROM gc_unused",
                    arguments: [now])
                try db.execute(sql: "DELETE FROM blob WHERE digest IN (SELECT digest FROM gc_unused)")
                try db.execute(sql: "DROP TABLE gc_unused")
                sweep.blobs = try Row.fetchAll(db, sql: "SELECT digest, size FROM blob_deletion ORDER BY digest")
                    .map { .init(digest: $0[0], size: $0[1]) }
                try db.execute(sql: "DROP TABLE gc_keep")
                try db.execute(sql: "DELETE FROM blob_reservation WHERE expires_at <= ?", arguments: [now])
                try db.execute(sql: "DELETE FROM blob_pin WHERE expires_at <= ?", arguments: [now])
                return options.dryRun ? .rollback : .commit
            }
            return sweep
            }
        } catch let error as DatabaseError {
            throw SQLiteFailure(error)
        }
    }

    /// Fills the temporary table `gc_keep` with the ids of every manifest to keep.
    private static func mark(_ db: Database, options: CollectionOptions, cutoff: Double) throws {
        try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS gc_keep (id INTEGER PRIMARY KEY)")
        try db.execute(sql: "DELETE FROM gc_keep")
        try db.execute(sql: "INSERT OR IGNORE INTO gc_keep SELECT manifest_id FROM tag")
        if options.deleteUntagged {
            try db.execute(sql: "INSERT OR IGNORE INTO gc_keep SELECT id FROM manifest WHERE created_at >= ?", arguments: [cutoff])
        } else {
            try db.execute(sql: "INSERT OR IGNORE INTO gc_keep SELECT id FROM manifest")
            return
        }
        // Children of kept indexes, and referrers of kept manifests, until nothing changes.
        while true {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO gc_keep
                    SELECT child.id FROM gc_keep k
                    JOIN manifest parent ON parent.id = k.id
                    JOIN manifest_child mc ON mc.manifest_id = parent.id
                    JOIN manifest child ON child.repository_id = parent.repository_id AND child.digest = mc.child_digest
                    """)
            var added = db.changesCount
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO gc_keep
                    SELECT referrer.id FROM gc_keep k
                    JOIN manifest subject ON subject.id = k.id
                    JOIN manifest referrer ON referrer.repository_id = subject.repository_id
                        AND referrer.subject = subject.digest
                    """)
            added += db.changesCount
            if added == 0 { return }
        }
    }

    public func claimBlobDeletions(
        limit: Int, collector: String, lease: Duration
    ) async throws -> [CollectionSweep.RemovedBlob] {
        try await write { db in
            let now = Self.now
            let pinned = try Bool.fetchOne(db, sql: "SELECT 1 FROM blob_pin WHERE expires_at > ? LIMIT 1", arguments: [now])
            if pinned == true { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    UPDATE blob_deletion SET claimed_by = ?, claimed_at = ?
                    WHERE digest IN (
                        SELECT d.digest FROM blob_deletion d
                        WHERE (d.claimed_by IS NULL OR d.claimed_at <= ?)
                        AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.digest = d.digest)
                        AND NOT EXISTS (SELECT 1 FROM blob_reservation r WHERE r.digest = d.digest AND r.expires_at > ?)
                        ORDER BY d.digest LIMIT ?)
                    RETURNING digest, size
                    """,
                arguments: [collector, now, now - lease.inSeconds, now, limit]
            ).map { CollectionSweep.RemovedBlob(digest: $0[0], size: $0[1]) }
        }
    }

    public func completeBlobDeletions(_ digests: [Digest], collector: String) async throws {
        let list = Self.jsonArray(digests.map(\.description))
        try await write { db in
            try db.execute(
                sql: "DELETE FROM blob_deletion WHERE claimed_by = ? AND digest IN (SELECT value FROM json_each(?))",
                arguments: [collector, list])
        }
    }

    public func pendingBlobDeletions() async throws -> [CollectionSweep.RemovedBlob] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT digest, size FROM blob_deletion ORDER BY digest")
                .map { CollectionSweep.RemovedBlob(digest: $0[0], size: $0[1]) }
        }
    }

    public func recordCollection(_ report: CollectionReport, startedAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO gc_run (started_at, finished_at, dry_run, manifests_removed, blobs_removed,
                        bytes_freed, uploads_removed) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    startedAt.timeIntervalSince1970, Date().timeIntervalSince1970, report.dryRun,
                    report.manifestsRemoved, report.blobsRemoved, report.bytesFreed, report.uploadsRemoved,
                ])
        }
    }
}

extension SQLiteMetadataStore {
    /// Removes the rows of upload sessions started before `cutoff` (all of them in one
    /// transaction, or none for a dry run) and returns their ids.
    public func purgeUploads(startedBefore cutoff: Date, dryRun: Bool) async throws -> [String] {
        try await write { db in
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM upload WHERE started_at < ? ORDER BY id",
                arguments: [cutoff.timeIntervalSince1970])
            if !dryRun {
                try db.execute(sql: "DELETE FROM upload WHERE started_at < ?", arguments: [cutoff.timeIntervalSince1970])
            }
            return ids
        }
    }
}
