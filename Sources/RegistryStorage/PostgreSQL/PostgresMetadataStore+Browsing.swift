import Foundation
import NIOCore
import PostgresNIO
import RegistryCore

/// Summaries for the web UI and recorded pull times (``BrowsingMetadataStore``) on PostgreSQL.
///
/// Tag counts and linked-blob sizes are computed per listed row by correlated subqueries over
/// the primary-key indexes rather than kept in columns by triggers as the SQLite store does:
/// the migrations run statement by statement, and a fleet's database has the CPU to spare.
/// The name order walks the repository index and computes only the rows of the page; the
/// last-push and size orders compute every matching repository's key before sorting, which
/// is fine for thousands of repositories and the price of not keeping counters on every write.
/// `repository.pushed_at` is a column (migration 3), raised by every manifest push, so that
/// deleting content does not move a repository back in time.
extension PostgresMetadataStore: BrowsingMetadataStore {
    static let summaryColumns = """
        r.name,
        (SELECT count(*) FROM tag t WHERE t.repository_id = r.id) AS tag_count,
        (SELECT coalesce(sum(b.size), 0) FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
            WHERE rb.repository_id = r.id)::bigint AS size,
        r.pushed_at, r.pulled_at
        """

    public func repositorySummaries(
        matching filter: String, order: RepositoryOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [RepositorySummary] {
        let needle = filter.lowercased()
        let limit = Int64(limit)
        return try await transaction { connection in
            let rows: PostgresRowSequence
            switch order {
            case .name:
                rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.summaryColumns) FROM repository r
                    WHERE (\(needle) = '' OR strpos(lower(r.name), \(needle)) > 0) AND r.name > \(cursor?.name ?? "")
                    ORDER BY r.name LIMIT \(limit)
                    """, logger: self.logger)
            case .pushed:
                let time = cursor?.time ?? Double.greatestFiniteMagnitude
                rows = try await connection.query(
                    """
                    SELECT * FROM (SELECT \(unescaped: Self.summaryColumns) FROM repository r
                        WHERE \(needle) = '' OR strpos(lower(r.name), \(needle)) > 0) s
                    WHERE s.pushed_at < \(time) OR (s.pushed_at = \(time) AND s.name > \(cursor?.name ?? ""))
                    ORDER BY s.pushed_at DESC, s.name LIMIT \(limit)
                    """, logger: self.logger)
            case .size:
                let size = cursor?.size ?? Int64.max
                rows = try await connection.query(
                    """
                    SELECT * FROM (SELECT \(unescaped: Self.summaryColumns) FROM repository r
                        WHERE \(needle) = '' OR strpos(lower(r.name), \(needle)) > 0) s
                    WHERE s.size < \(size) OR (s.size = \(size) AND s.name > \(cursor?.name ?? ""))
                    ORDER BY s.size DESC, s.name LIMIT \(limit)
                    """, logger: self.logger)
            }
            return try await rows.collect().map(Self.repositorySummary)
        }
    }

    public func repositorySummary(_ repository: RepositoryName) async throws -> RepositorySummary? {
        try await statement { connection in
            try await connection.query(
                "SELECT \(unescaped: Self.summaryColumns) FROM repository r WHERE r.name = \(repository.value)",
                logger: self.logger
            ).collect().first.map(Self.repositorySummary)
        }
    }

    public func tagSummaries(
        in repository: RepositoryName, matching filter: String, order: TagOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [TagSummary]? {
        let needle = filter.lowercased()
        let limit = Int64(limit)
        return try await transaction { connection in
            guard let repositoryID = try await Self.repositoryID(repository, on: connection, create: false, logger: self.logger)
            else { return nil }
            let select = """
                SELECT t.name, t.updated_at, t.pulled_at, m.digest, m.media_type, m.content, m.subject, m.artifact_type,
                    m.pulled_at
                FROM tag t JOIN manifest m ON m.id = t.manifest_id
                """
            let rows: PostgresRowSequence
            switch order {
            case .name:
                rows = try await connection.query(
                    """
                    \(unescaped: select)
                    WHERE t.repository_id = \(repositoryID) AND (\(needle) = '' OR strpos(lower(t.name), \(needle)) > 0)
                        AND t.name > \(cursor?.name ?? "")
                    ORDER BY t.name LIMIT \(limit)
                    """, logger: self.logger)
            case .newest:
                let time = cursor?.time ?? Double.greatestFiniteMagnitude
                rows = try await connection.query(
                    """
                    \(unescaped: select)
                    WHERE t.repository_id = \(repositoryID) AND (\(needle) = '' OR strpos(lower(t.name), \(needle)) > 0)
                        AND (t.updated_at < \(time) OR (t.updated_at = \(time) AND t.name > \(cursor?.name ?? "")))
                    ORDER BY t.updated_at DESC, t.name LIMIT \(limit)
                    """, logger: self.logger)
            }
            return try await rows.collect().compactMap(Self.tagSummary)
        }
    }

    /// One transaction, no advisory lock (pull times are hints, and must not wait for gc).
    public func recordPulls(_ pulls: [PullRecord]) async throws {
        guard !pulls.isEmpty else { return }
        try await transaction { connection in
            for pull in pulls {
                let time = pull.time.timeIntervalSince1970
                let updated: Int
                switch pull.reference {
                case .tag(let tag):
                    updated = try await connection.query(
                        """
                        UPDATE tag t SET pulled_at = greatest(coalesce(t.pulled_at, 0), \(time)) FROM repository r
                        WHERE r.id = t.repository_id AND r.name = \(pull.repository.value) AND t.name = \(tag.value)
                        RETURNING 1
                        """, logger: self.logger
                    ).collect().count
                case .digest(let digest):
                    updated = try await connection.query(
                        """
                        UPDATE manifest m SET pulled_at = greatest(coalesce(m.pulled_at, 0), \(time)) FROM repository r
                        WHERE r.id = m.repository_id AND r.name = \(pull.repository.value) AND m.digest = \(digest.description)
                        RETURNING 1
                        """, logger: self.logger
                    ).collect().count
                }
                if updated > 0 {
                    try await connection.query(
                        """
                        UPDATE repository SET pulled_at = greatest(coalesce(pulled_at, 0), \(time))
                        WHERE name = \(pull.repository.value)
                        """, logger: self.logger)
                }
            }
        }
    }

    private static func date(_ seconds: Double?) -> Date? {
        guard let seconds, seconds > 0 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    private static func repositorySummary(_ row: PostgresRow) throws -> RepositorySummary {
        let (name, tags, size, pushed, pulled) = try row.decode((String, Int64, Int64, Double, Double?).self)
        return RepositorySummary(name: name, tagCount: Int(tags), size: size, pushedAt: date(pushed), pulledAt: date(pulled))
    }

    private static func tagSummary(_ row: PostgresRow) throws -> TagSummary? {
        let (name, updated, pulled, digestText, mediaType, content, subject, artifactType, manifestPulled) = try row.decode(
            (String, Double, Double?, String, String, ByteBuffer, String?, String?, Double?).self)
        guard let digest = try? Digest(parsing: digestText) else { return nil }
        let manifest = StoredManifest(
            digest: digest, mediaType: mediaType, bytes: Array(content.readableBytesView),
            subject: subject.flatMap { try? Digest(parsing: $0) }, artifactType: artifactType)
        return TagSummary(
            name: name, manifest: manifest, pushedAt: Date(timeIntervalSince1970: updated), pulledAt: date(pulled),
            manifestPulledAt: date(manifestPulled))
    }
}
