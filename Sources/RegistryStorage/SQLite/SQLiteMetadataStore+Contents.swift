import Foundation
import GRDB
import RegistryCore

/// A repository's whole content in one read transaction (a consistent snapshot under WAL).
extension SQLiteMetadataStore: EnumerableMetadataStore {
    public func contents(of repository: RepositoryName) async throws -> RepositoryContents? {
        try await read { db in
            guard let id = try Self.repositoryID(repository, in: db, create: false) else { return nil }
            let blobs = try Row.fetchAll(
                db,
                sql: """
                    SELECT rb.digest, b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                    WHERE rb.repository_id = ? ORDER BY rb.digest
                    """, arguments: [id]
            ).compactMap { row -> RepositoryContents.LinkedBlob? in
                guard let digest = try? Digest(parsing: row[0] as String) else { return nil }
                return RepositoryContents.LinkedBlob(digest: digest, size: row[1])
            }
            let manifests = try String.fetchAll(
                db, sql: "SELECT digest FROM manifest WHERE repository_id = ? ORDER BY created_at, id", arguments: [id]
            ).compactMap { try? Digest(parsing: $0) }
            let tags = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.name, m.digest, t.updated_at FROM tag t JOIN manifest m ON m.id = t.manifest_id
                    WHERE t.repository_id = ? ORDER BY t.name
                    """, arguments: [id]
            ).compactMap { row -> RepositoryContents.TagLink? in
                guard let digest = try? Digest(parsing: row[1] as String) else { return nil }
                return RepositoryContents.TagLink(
                    name: row[0], digest: digest, pushedAt: Date(timeIntervalSince1970: row[2]))
            }
            return RepositoryContents(blobs: blobs, manifests: manifests, tags: tags)
        }
    }
}
