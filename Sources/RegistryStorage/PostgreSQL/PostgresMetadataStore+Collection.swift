import Foundation
import Logging
import PostgresNIO
import RegistryCore

/// Garbage collection across a fleet: any number of registryd nodes push while one
/// `registryctl gc` (or several) collects.
///
/// ## Why no acknowledged image loses a blob
///
/// The rules are those of ``GarbageCollector`` for SQLite, where SQLite's one writer puts every
/// transaction in a serial order. Here the order that matters is made by the lifecycle
/// advisory lock (``PostgresMetadataStore/lifecycleLock``): every operation that adds or
/// removes a reference (reserve, record, mount, unlink, manifest put and delete, tag delete,
/// fsck's repair) holds it shared for its whole transaction; the sweep and each claim hold it
/// exclusively for theirs. Shared holders run side by side; an exclusive holder runs alone
/// among them. Each statement of the sweep and of a claim, run after the lock is granted,
/// takes a fresh READ COMMITTED snapshot, so it sees every reference committed before and no
/// reference can be committed until it ends. Hence:
///
/// 1. The sweep's mark (tags, recent manifests, their children and referrers) and its
///    deletions see one unchanging set of references: no tag or manifest put lands between
///    the mark and the delete, so nothing acknowledged (201) before or during the sweep is
///    removed unless the rules say so (untagged and older than the grace period).
/// 2. A blob row is removed only when nothing links or references it and it is older than
///    the grace period, under the same lock; its digest goes into `blob_deletion` in the same
///    transaction. A push of the same digest afterwards must first reserve it.
/// 3. A claim (exclusive) takes only digests with no blob row and no live reservation. A
///    reservation (shared) refuses a digest with a live claim. So for any digest either the
///    reservation committed first (the claim skips the digest until the reservation is used or
///    expires), or the claim did (the upload is told to retry, ``BlobBeingDeleted``). Bytes
///    are deleted only under a live claim, and a recorded blob voids unclaimed deletions.
/// 4. A collector killed with -9 leaves its work in the database: rows swept are committed
///    with their queued deletions, claims expire after ``GarbageCollector/claimLease`` and are
///    taken over by the next run; nothing is half-deleted because bytes go only after the
///    rows, and a deletion is dropped from the queue only once its bytes are gone.
///
/// The cost: pushes on every node wait while a sweep runs (as they wait for SQLite's writer).
/// The sweep is a handful of set-based statements, not a per-blob loop.
extension PostgresMetadataStore: CollectableMetadataStore {
    public func sweep(_ options: CollectionOptions) async throws -> CollectionSweep {
        let grace = options.grace.inSeconds
        return try await transaction(.exclusive, commit: !options.dryRun, deadline: false) { connection in
            let logger = self.logger
            guard
                let now = try await connection.query("SELECT \(unescaped: Self.now)", logger: logger).collect().first?
                    .decode(Double.self)
            else { throw PostgresFailure(.failed, "database: no clock") }
            let cutoff = now - grace
            var sweep = CollectionSweep()
            try await Self.mark(on: connection, deleteUntagged: options.deleteUntagged, cutoff: cutoff, logger: logger)
            sweep.manifests = try await connection.query(
                """
                SELECT r.name, m.digest, m.size FROM manifest m JOIN repository r ON r.id = m.repository_id
                WHERE m.id NOT IN (SELECT id FROM gc_keep) ORDER BY r.name, m.digest
                """, logger: logger
            ).collect().map {
                let (repository, digest, size) = try $0.decode((String, String, Int64).self)
                return .init(repository: repository, digest: digest, size: size)
            }
            try await connection.query("DELETE FROM manifest WHERE id NOT IN (SELECT id FROM gc_keep)", logger: logger)
            try await connection.query(
                """
                DELETE FROM repository_blob rb WHERE rb.linked_at < \(cutoff) AND NOT EXISTS (
                    SELECT 1 FROM manifest_blob mb JOIN manifest m ON m.id = mb.manifest_id
                    WHERE mb.digest = rb.digest AND m.repository_id = rb.repository_id)
                """, logger: logger)
            // Blobs that nothing links or references and that were stored before the grace
            // period: computed once, queued for deletion of their bytes, and their rows removed.
            try await connection.query(
                """
                CREATE TEMP TABLE gc_unused ON COMMIT DROP AS SELECT b.digest, b.size FROM blob b
                WHERE b.created_at < \(cutoff)
                AND NOT EXISTS (SELECT 1 FROM repository_blob rb WHERE rb.digest = b.digest)
                AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = b.digest)
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO blob_deletion (digest, size, queued_at) SELECT digest, size, \(now) FROM gc_unused
                ON CONFLICT (digest) DO NOTHING
                """, logger: logger)
            try await connection.query("DELETE FROM blob WHERE digest IN (SELECT digest FROM gc_unused)", logger: logger)
            sweep.blobs = try await connection.query("SELECT digest, size FROM blob_deletion ORDER BY digest", logger: logger)
                .collect().map {
                    let (digest, size) = try $0.decode((String, Int64).self)
                    return .init(digest: digest, size: size)
                }
            try await connection.query("DELETE FROM blob_reservation WHERE expires_at <= \(now)", logger: logger)
            try await connection.query("DELETE FROM blob_pin WHERE expires_at <= \(now)", logger: logger)
            return sweep
        }
    }

    /// Fills the transaction's temporary table `gc_keep` with the ids of every manifest to keep.
    private static func mark(on connection: PostgresConnection, deleteUntagged: Bool, cutoff: Double, logger: Logger) async throws {
        try await connection.query("CREATE TEMP TABLE gc_keep (id bigint PRIMARY KEY) ON COMMIT DROP", logger: logger)
        try await connection.query("INSERT INTO gc_keep SELECT DISTINCT manifest_id FROM tag", logger: logger)
        guard deleteUntagged else {
            try await connection.query("INSERT INTO gc_keep SELECT id FROM manifest ON CONFLICT DO NOTHING", logger: logger)
            return
        }
        try await connection.query(
            "INSERT INTO gc_keep SELECT id FROM manifest WHERE created_at >= \(cutoff) ON CONFLICT DO NOTHING", logger: logger)
        // Children of kept indexes, and referrers of kept manifests, until nothing changes.
        while true {
            let children = try await connection.query(
                """
                INSERT INTO gc_keep
                SELECT DISTINCT child.id FROM gc_keep k
                JOIN manifest parent ON parent.id = k.id
                JOIN manifest_child mc ON mc.manifest_id = parent.id
                JOIN manifest child ON child.repository_id = parent.repository_id AND child.digest = mc.child_digest
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).collect().count
            let referrers = try await connection.query(
                """
                INSERT INTO gc_keep
                SELECT DISTINCT referrer.id FROM gc_keep k
                JOIN manifest subject ON subject.id = k.id
                JOIN manifest referrer ON referrer.repository_id = subject.repository_id AND referrer.subject = subject.digest
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).collect().count
            if children + referrers == 0 { return }
        }
    }

    /// Under the exclusive lifecycle lock: see point 3 of the argument above.
    public func claimBlobDeletions(
        limit: Int, collector: String, lease: Duration
    ) async throws -> [CollectionSweep.RemovedBlob] {
        let leaseSeconds = lease.inSeconds
        return try await transaction(.exclusive, deadline: false) { connection in
            let logger = self.logger
            let pinned = try await !connection.query(
                "SELECT 1 FROM blob_pin WHERE expires_at > \(unescaped: Self.now) LIMIT 1", logger: logger
            ).collect().isEmpty
            if pinned { return [] }
            return try await connection.query(
                """
                UPDATE blob_deletion SET claimed_by = \(collector), claimed_at = \(unescaped: Self.now)
                WHERE digest IN (
                    SELECT d.digest FROM blob_deletion d
                    WHERE (d.claimed_by IS NULL OR d.claimed_at <= \(unescaped: Self.now) - \(leaseSeconds))
                    AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.digest = d.digest)
                    AND NOT EXISTS (
                        SELECT 1 FROM blob_reservation r WHERE r.digest = d.digest AND r.expires_at > \(unescaped: Self.now))
                    ORDER BY d.digest LIMIT \(Int64(limit)))
                RETURNING digest, size
                """, logger: logger
            ).collect().map {
                let (digest, size) = try $0.decode((String, Int64).self)
                return CollectionSweep.RemovedBlob(digest: digest, size: size)
            }
        }
    }

    public func completeBlobDeletions(_ digests: [Digest], collector: String) async throws {
        let values = digests.map(\.description)
        try await transaction(deadline: false) { connection in
            try await connection.query(
                "DELETE FROM blob_deletion WHERE claimed_by = \(collector) AND digest = ANY(\(values))", logger: self.logger)
        }
    }

    public func pendingBlobDeletions() async throws -> [CollectionSweep.RemovedBlob] {
        try await transaction(deadline: false) { connection in
            try await connection.query("SELECT digest, size FROM blob_deletion ORDER BY digest", logger: self.logger)
                .collect().map {
                    let (digest, size) = try $0.decode((String, Int64).self)
                    return CollectionSweep.RemovedBlob(digest: digest, size: size)
                }
        }
    }

    public func purgeUploads(startedBefore cutoff: Date, dryRun: Bool) async throws -> [String] {
        let seconds = cutoff.timeIntervalSince1970
        return try await transaction(commit: !dryRun, deadline: false) { connection in
            try await connection.query(
                "DELETE FROM upload WHERE started_at < \(seconds) RETURNING id", logger: self.logger
            ).collect().map { try $0.decode(String.self) }.sorted()
        }
    }

    public func recordCollection(_ report: CollectionReport, startedAt: Date) async throws {
        try await transaction(deadline: false) { connection in
            try await connection.query(
                """
                INSERT INTO gc_run (started_at, finished_at, dry_run, manifests_removed, blobs_removed, bytes_freed, uploads_removed)
                VALUES (\(startedAt.timeIntervalSince1970), \(Date().timeIntervalSince1970), \(report.dryRun),
                    \(Int64(report.manifestsRemoved)), \(Int64(report.blobsRemoved)), \(report.bytesFreed),
                    \(Int64(report.uploadsRemoved)))
                """, logger: self.logger)
        }
    }
}
