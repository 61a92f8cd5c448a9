import Foundation
import GRDB
import RegistryCore

/// Summaries for the web UI and recorded pull times, over the columns and indexes of the
/// `browse-1` migration (``SQLiteSchema/browsing(_:)``): every listing walks one index in its
/// order and stops after `limit` rows that pass the filter, except a repository filter that
/// few names contain, which asks the trigram index of `search-1` (``RepositoryListingStatements``).
extension SQLiteMetadataStore: BrowsingMetadataStore {
    public func repositorySummaries(
        matching filter: String, order: RepositoryOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [RepositorySummary] {
        typealias Statements = RepositoryListingStatements
        let needle = filter.lowercased()
        func arguments(_ filter: String) -> StatementArguments {
            switch order {
            case .name: [filter, cursor?.name ?? "", limit]
            case .pushed: [filter, cursor?.time ?? .greatestFiniteMagnitude, cursor?.name ?? "", limit]
            case .size: [filter, cursor?.size ?? .max, cursor?.name ?? "", limit]
            }
        }
        let walk = arguments(needle)
        let search = searchesNames && needle.unicodeScalars.count >= 3 ? arguments(Statements.phrase(needle)) : nil
        return try await read { db in
            guard let search else {
                return try Row.fetchAll(db.cachedStatement(sql: Statements.walk(order)), arguments: walk)
                    .map(Self.repositorySummary)
            }
            let walked = try Row.fetchAll(
                db.cachedStatement(sql: Statements.boundedWalk(order)), arguments: walk + [Statements.scannedRows])
            if walked.count == limit { return walked.map(Self.repositorySummary) }
            return try Row.fetchAll(db.cachedStatement(sql: Statements.search(order)), arguments: search)
                .map(Self.repositorySummary)
        }
    }

    public func repositorySummary(_ repository: RepositoryName) async throws -> RepositorySummary? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.repositoryColumns) FROM repository WHERE name = ?"),
                arguments: [repository.value]
            ).map(Self.repositorySummary)
        }
    }

    public func tagSummaries(
        in repository: RepositoryName, matching filter: String, order: TagOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [TagSummary]? {
        let needle = Self.likePattern(containing: filter)
        return try await read { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return nil }
            let arguments: StatementArguments
            switch order {
            case .name: arguments = [repositoryID, needle, cursor?.name ?? "", limit]
            case .newest:
                arguments = [repositoryID, needle, cursor?.time ?? .greatestFiniteMagnitude, cursor?.name ?? "", limit]
            }
            return try Row.fetchAll(db.cachedStatement(sql: Self.tagsSQL(order)), arguments: arguments).compactMap(Self.tagSummary)
        }
    }

    // MARK: Statements

    static let repositoryColumns = RepositoryListingStatements.columns

    /// A page of one repository's tags with their manifests: `?1` the repository's id, `?2`
    /// the filter as a `LIKE` pattern (``likePattern(containing:)``; empty for none), then the
    /// cursor's time (newest first only) and name, then the limit. Tags may hold upper case;
    /// `LIKE` ignores ASCII case (all a tag may hold) without allocating per row, as
    /// `lower(t.name)` did.
    static func tagsSQL(_ order: TagOrder) -> String {
        let select = """
            SELECT t.name, t.updated_at, t.pulled_at, m.digest, m.media_type, m.content, m.subject, m.artifact_type,
                m.pulled_at
            FROM tag t JOIN manifest m ON m.id = t.manifest_id
            WHERE t.repository_id = ?1 AND (?2 = '' OR t.name LIKE ?2 ESCAPE '\\')
            """
        switch order {
        case .name:
            return "\(select) AND t.name > ?3 ORDER BY t.name LIMIT ?4"
        case .newest:
            return """
                \(select) AND (t.updated_at < ?3 OR (t.updated_at = ?3 AND t.name > ?4))
                ORDER BY t.updated_at DESC, t.name LIMIT ?5
                """
        }
    }

    /// `%filter%` with `LIKE`'s wildcards and its escape character in the filter escaped;
    /// empty for an empty filter.
    static func likePattern(containing filter: String) -> String {
        guard !filter.isEmpty else { return "" }
        var pattern = "%"
        for character in filter {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }

    public func recordPulls(_ pulls: [PullRecord]) async throws {
        guard !pulls.isEmpty else { return }
        try await lightWrite { db in
            let byTag = try db.cachedStatement(
                sql: """
                    UPDATE tag SET pulled_at = max(coalesce(pulled_at, 0), ?1)
                    WHERE repository_id = (SELECT id FROM repository WHERE name = ?2) AND name = ?3
                    """)
            let byDigest = try db.cachedStatement(
                sql: """
                    UPDATE manifest SET pulled_at = max(coalesce(pulled_at, 0), ?1)
                    WHERE repository_id = (SELECT id FROM repository WHERE name = ?2) AND digest = ?3
                    """)
            let repository = try db.cachedStatement(
                sql: "UPDATE repository SET pulled_at = max(coalesce(pulled_at, 0), ?1) WHERE name = ?2")
            for pull in pulls {
                let time = pull.time.timeIntervalSince1970
                switch pull.reference {
                case .tag(let tag): try byTag.execute(arguments: [time, pull.repository.value, tag.value])
                case .digest(let digest): try byDigest.execute(arguments: [time, pull.repository.value, digest.description])
                }
                if db.changesCount > 0 { try repository.execute(arguments: [time, pull.repository.value]) }
            }
        }
    }

    private static func date(_ seconds: Double?) -> Date? {
        guard let seconds, seconds > 0 else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    private static func repositorySummary(_ row: Row) -> RepositorySummary {
        RepositorySummary(
            name: row[0], tagCount: row[1], size: row[2], pushedAt: date(row[3]), pulledAt: date(row[4]))
    }

    private static func tagSummary(_ row: Row) -> TagSummary? {
        guard let digest = try? Digest(parsing: row[3] as String) else { return nil }
        let content: Data = row[5]
        let manifest = StoredManifest(
            digest: digest, mediaType: row[4], bytes: [UInt8](content),
            subject: (row[6] as String?).flatMap { try? Digest(parsing: $0) }, artifactType: row[7])
        return TagSummary(
            name: row[0], manifest: manifest, pushedAt: Date(timeIntervalSince1970: row[1]), pulledAt: date(row[2]),
            manifestPulledAt: date(row[8]))
    }
}
