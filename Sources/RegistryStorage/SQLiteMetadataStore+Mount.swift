import Foundation
import GRDB
import RegistryCore

extension SQLiteMetadataStore {
    /// For mounts without `from` (`berth.mount.anywhere`): any repository's link will do.
    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool {
        try await pool.write { db in
            guard
                try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM repository_blob WHERE digest = ? LIMIT 1", arguments: [digest.description])
                    != nil
            else { return false }
            let repositoryID = try Self.repositoryID(repository, in: db, create: true)
            try db.execute(
                sql: """
                    INSERT INTO repository_blob (repository_id, digest, linked_at) VALUES (?, ?, ?)
                    ON CONFLICT(repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at
                    """,
                arguments: [repositoryID, digest.description, Date().timeIntervalSince1970])
            return true
        }
    }
}
