import GRDB
import RegistryCore

/// Paginated listings of tags and repositories, in byte order.
extension SQLiteMetadataStore {
    public func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]? {
        try await read { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return nil }
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT name FROM tag WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?"),
                arguments: [repositoryID, last ?? "", limit ?? -1])
        }
    }

    public func repositories(after last: String?, limit: Int?) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT name FROM repository WHERE name > ? ORDER BY name LIMIT ?"),
                arguments: [last ?? "", limit ?? -1])
        }
    }
}
