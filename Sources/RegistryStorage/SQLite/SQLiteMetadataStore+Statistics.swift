import GRDB

extension SQLiteMetadataStore: StatisticsSource {
    /// Counts rows in one read transaction: index scans over a few tables, no disk walk.
    public func statistics() async throws -> RegistryStatistics {
        try await read { db in
            var statistics = RegistryStatistics()
            if let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(sum(size), 0) FROM blob") {
                statistics.blobs = row[0]
                statistics.blobBytes = row[1]
            }
            statistics.manifests = try Int.fetchOne(db, sql: "SELECT count(*) FROM manifest") ?? 0
            statistics.tags = try Int.fetchOne(db, sql: "SELECT count(*) FROM tag") ?? 0
            statistics.repositories = try Int.fetchOne(db, sql: "SELECT count(*) FROM repository") ?? 0
            statistics.uploadsInProgress = try Int.fetchOne(db, sql: "SELECT count(*) FROM upload") ?? 0
            if let row = try Row.fetchOne(
                db, sql: "SELECT count(*), coalesce(sum(bytes_freed), 0) FROM gc_run WHERE dry_run = 0")
            {
                statistics.gcRuns = row[0]
                statistics.gcBytesFreed = row[1]
            }
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT finished_at, finished_at - started_at, bytes_freed, blobs_removed, manifests_removed
                    FROM gc_run WHERE dry_run = 0 ORDER BY id DESC LIMIT 1
                    """)
            {
                statistics.lastGC = .init(
                    finishedAt: row[0], seconds: row[1], bytesFreed: row[2], blobsRemoved: row[3],
                    manifestsRemoved: row[4])
            }
            return statistics
        }
    }
}
