import PostgresNIO
import RegistryCore

/// What `registryctl fsck` reads and repairs.
extension PostgresMetadataStore: CheckableMetadataStore {
    public func recordedBlobs() async throws -> [Digest: Int64] {
        let rows = try await transaction(deadline: false) { connection in
            try await connection.query("SELECT digest, size FROM blob", logger: self.logger).collect()
                .map { try $0.decode((String, Int64).self) }
        }
        var blobs: [Digest: Int64] = [:]
        for (text, size) in rows {
            if let digest = try? Digest(parsing: text) { blobs[digest] = size }
        }
        return blobs
    }

    public func manifests(referencing digests: Set<Digest>) async throws -> [String] {
        guard !digests.isEmpty else { return [] }
        let values = digests.map(\.description)
        return try await transaction(deadline: false) { connection in
            try await connection.query(
                """
                SELECT DISTINCT r.name || '@' || m.digest FROM manifest_blob mb
                JOIN manifest m ON m.id = mb.manifest_id JOIN repository r ON r.id = m.repository_id
                WHERE mb.digest = ANY(\(values)) ORDER BY 1
                """, logger: self.logger
            ).collect().map { try $0.decode(String.self) }
        }
    }

    /// Under the shared lifecycle lock, like every other change to references.
    public func forgetMissingBlobs(_ digests: Set<Digest>) async throws {
        let values = digests.map(\.description)
        try await transaction(.shared, deadline: false) { connection in
            try await connection.query("DELETE FROM repository_blob WHERE digest = ANY(\(values))", logger: self.logger)
            try await connection.query(
                """
                DELETE FROM blob WHERE digest = ANY(\(values))
                AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = blob.digest)
                """, logger: self.logger)
        }
    }
}
