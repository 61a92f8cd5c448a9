import Foundation
import GRDB
import RegistryCore

/// Upload sessions: one row each, with the staged state as JSON.
extension SQLiteMetadataStore {
    public func createUpload(_ session: UploadSession) async throws {
        let staged = try session.staged.encoded()
        try await lightWrite { db in
            try db.execute(
                sql: "INSERT INTO upload (id, repository, started_at, staged) VALUES (?, ?, ?, ?)",
                arguments: [session.id, session.repository.value, session.startedAt.timeIntervalSince1970, staged])
        }
    }

    public func upload(id: String) async throws -> UploadSession? {
        let row = try await read { db -> (String, Double, String?)? in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT repository, started_at, staged FROM upload WHERE id = ?"), arguments: [id])
            else { return nil }
            return (row[0], row[1], row[2])
        }
        guard let row, let repository = try? RepositoryName(row.0) else { return nil }
        // A row from before staged state was kept: the blob store rebuilds it from the bytes.
        let staged = row.2.flatMap { try? StagedUpload.decode($0) } ?? StagedUpload(id: id, size: -1, hasher: nil)
        return UploadSession(id: id, repository: repository, startedAt: Date(timeIntervalSince1970: row.1), staged: staged)
    }

    public func updateUpload(id: String, staged: StagedUpload, expectedSize: Int64) async throws -> Bool {
        let text = try staged.encoded()
        return try await lightWrite { db in
            guard let current = try String?.fetchOne(db, sql: "SELECT staged FROM upload WHERE id = ?", arguments: [id])
            else { return false }
            let recordedSize = current.flatMap { try? StagedUpload.decode($0) }?.size ?? -1
            guard recordedSize == expectedSize else { return false }
            try db.execute(sql: "UPDATE upload SET staged = ? WHERE id = ?", arguments: [text, id])
            return true
        }
    }

    public func deleteUpload(id: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM upload WHERE id = ?", arguments: [id])
        }
    }

    public func uploadIDs() async throws -> Set<String> {
        try await read { db in Set(try String.fetchAll(db, sql: "SELECT id FROM upload")) }
    }
}
