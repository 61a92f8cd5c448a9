import GRDB
import RegistryCore

extension SQLiteMetadataStore: CheckableMetadataStore {
    public func recordedBlobs() async throws -> [Digest: Int64] {
        try await read { db in
            var blobs: [Digest: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT digest, size FROM blob") {
                if let digest = try? Digest(parsing: row[0] as String) { blobs[digest] = row[1] }
            }
            return blobs
        }
    }

    public func manifests(referencing digests: Set<Digest>) async throws -> [String] {
        guard !digests.isEmpty else { return [] }
        let values = digests.map(\.description)
        return try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT r.name || '@' || m.digest FROM manifest_blob mb
                    JOIN manifest m ON m.id = mb.manifest_id JOIN repository r ON r.id = m.repository_id
                    WHERE mb.digest IN (SELECT value FROM json_each(?)) ORDER BY 1
                    """,
                arguments: [Self.jsonArray(values)])
        }
    }

    public func forgetMissingBlobs(_ digests: Set<Digest>) async throws {
        let values = digests.map(\.description)
        try await write { db in
            let list = Self.jsonArray(values)
            try db.execute(sql: "DELETE FROM repository_blob WHERE digest IN (SELECT value FROM json_each(?))", arguments: [list])
            try db.execute(
                sql: """
                    DELETE FROM blob WHERE digest IN (SELECT value FROM json_each(?))
                    AND NOT EXISTS (SELECT 1 FROM manifest_blob mb WHERE mb.digest = blob.digest)
                    """,
                arguments: [list])
        }
    }
}
