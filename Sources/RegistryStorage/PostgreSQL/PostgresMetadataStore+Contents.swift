import Foundation
import PostgresNIO
import RegistryCore

/// A repository's whole content in one transaction (REPEATABLE READ, so the three reads see
/// one snapshot while pushes go on). No deadline: a large repository may take a while.
extension PostgresMetadataStore: EnumerableMetadataStore {
    public func contents(of repository: RepositoryName) async throws -> RepositoryContents? {
        try await transaction(deadline: false) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: self.logger)
            guard let id = try await Self.repositoryID(repository, on: connection, create: false, logger: self.logger)
            else { return nil }
            var blobs: [RepositoryContents.LinkedBlob] = []
            for try await (text, size) in try await connection.query(
                """
                SELECT rb.digest, b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                WHERE rb.repository_id = \(id) ORDER BY rb.digest
                """, logger: self.logger
            ).decode((String, Int64).self) {
                if let digest = try? Digest(parsing: text) { blobs.append(.init(digest: digest, size: size)) }
            }
            var manifests: [Digest] = []
            for try await text in try await connection.query(
                "SELECT digest FROM manifest WHERE repository_id = \(id) ORDER BY created_at, id", logger: self.logger
            ).decode(String.self) {
                if let digest = try? Digest(parsing: text) { manifests.append(digest) }
            }
            var tags: [RepositoryContents.TagLink] = []
            for try await (name, text, updated) in try await connection.query(
                """
                SELECT t.name, m.digest, t.updated_at FROM tag t JOIN manifest m ON m.id = t.manifest_id
                WHERE t.repository_id = \(id) ORDER BY t.name
                """, logger: self.logger
            ).decode((String, String, Double).self) {
                if let digest = try? Digest(parsing: text) {
                    tags.append(.init(name: name, digest: digest, pushedAt: Date(timeIntervalSince1970: updated)))
                }
            }
            return RepositoryContents(blobs: blobs, manifests: manifests, tags: tags)
        }
    }
}
