import PostgresNIO
import RegistryCore

extension PostgresMetadataStore: StatisticsSource {
    /// Counts rows in one transaction (a REPEATABLE READ snapshot, so the counts agree).
    public func statistics() async throws -> RegistryStatistics {
        try await transaction { connection in
            let logger = self.logger
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            var statistics = RegistryStatistics()
            if let row = try await connection.query(
                "SELECT count(*), coalesce(sum(size), 0)::bigint FROM blob", logger: logger
            ).collect().first {
                (statistics.blobs, statistics.blobBytes) = try row.decode((Int, Int64).self)
            }
            func count(_ table: String) async throws -> Int {
                // The table names are this file's constants.
                try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: logger)
                    .collect().first?.decode(Int.self) ?? 0
            }
            statistics.manifests = try await count("manifest")
            statistics.tags = try await count("tag")
            statistics.repositories = try await count("repository")
            statistics.uploadsInProgress = try await count("upload")
            if let row = try await connection.query(
                "SELECT count(*), coalesce(sum(bytes_freed), 0)::bigint FROM gc_run WHERE NOT dry_run", logger: logger
            ).collect().first {
                (statistics.gcRuns, statistics.gcBytesFreed) = try row.decode((Int, Int64).self)
            }
            if let row = try await connection.query(
                """
                SELECT finished_at, finished_at - started_at, bytes_freed, blobs_removed, manifests_removed
                FROM gc_run WHERE NOT dry_run ORDER BY id DESC LIMIT 1
                """, logger: logger
            ).collect().first {
                let (finished, seconds, bytes, blobs, manifests) = try row.decode((Double, Double, Int64, Int64, Int64).self)
                statistics.lastGC = .init(
                    finishedAt: finished, seconds: seconds, bytesFreed: bytes, blobsRemoved: Int(blobs),
                    manifestsRemoved: Int(manifests))
            }
            return statistics
        }
    }
}
