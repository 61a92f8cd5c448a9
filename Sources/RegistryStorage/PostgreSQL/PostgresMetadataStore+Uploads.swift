import Foundation
import PostgresNIO
import RegistryCore

/// Upload sessions: one row each, with the staged state as JSON and its size beside it, so
/// that any node can take the next request of an upload and two nodes racing on one session
/// cannot both advance it (``updateUpload(id:staged:expectedSize:)`` is one UPDATE).
extension PostgresMetadataStore {
    public func createUpload(_ session: UploadSession) async throws {
        let staged = try session.staged.encoded()
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO upload (id, repository, started_at, staged, staged_size)
                VALUES (\(session.id), \(session.repository.value), \(session.startedAt.timeIntervalSince1970), \(staged), \(session.staged.size))
                """, logger: self.logger)
        }
    }

    public func upload(id: String) async throws -> UploadSession? {
        let row = try await statement { connection in
            try await connection.query("SELECT repository, started_at, staged FROM upload WHERE id = \(id)", logger: self.logger)
                .collect().first.map { try $0.decode((String, Double, String).self) }
        }
        guard let row, let repository = try? RepositoryName(row.0) else { return nil }
        let staged = (try? StagedUpload.decode(row.2)) ?? StagedUpload(id: id, size: -1, hasher: nil)
        return UploadSession(id: id, repository: repository, startedAt: Date(timeIntervalSince1970: row.1), staged: staged)
    }

    /// Compare-and-swap in one statement: under READ COMMITTED a concurrent UPDATE of the same
    /// row makes this one wait and then re-check `staged_size` against the new row, so exactly
    /// one of two racing appends wins.
    public func updateUpload(id: String, staged: StagedUpload, expectedSize: Int64) async throws -> Bool {
        let text = try staged.encoded()
        return try await transaction { connection in
            try await !connection.query(
                """
                UPDATE upload SET staged = \(text), staged_size = \(staged.size)
                WHERE id = \(id) AND staged_size = \(expectedSize) RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    public func deleteUpload(id: String) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM upload WHERE id = \(id)", logger: self.logger)
        }
    }

    public func uploadIDs() async throws -> Set<String> {
        try await transaction { connection in
            Set(try await connection.query("SELECT id FROM upload", logger: self.logger).collect().map { try $0.decode(String.self) })
        }
    }
}
