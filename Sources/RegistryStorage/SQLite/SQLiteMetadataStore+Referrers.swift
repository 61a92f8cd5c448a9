import Foundation
import GRDB
import RegistryCore

extension SQLiteMetadataStore {
    /// Uses the `manifest_by_subject` index; the subject itself need not be stored.
    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [StoredManifest]
    {
        try await read { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return [] }
            var sql = """
                SELECT digest, media_type, content, artifact_type FROM manifest
                WHERE repository_id = ? AND subject = ?
                """
            var arguments: StatementArguments = [repositoryID, subject.description]
            if let artifactType {
                sql += " AND artifact_type = ?"
                arguments += [artifactType]
            }
            sql += " ORDER BY id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row -> StoredManifest? in
                guard let digest = try? Digest(parsing: row[0] as String) else { return nil }
                let content: Data = row[2]
                return StoredManifest(
                    digest: digest, mediaType: row[1], bytes: [UInt8](content), subject: subject, artifactType: row[3])
            }
        }
    }
}
