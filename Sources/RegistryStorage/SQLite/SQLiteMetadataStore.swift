import Foundation
import GRDB
import RegistryCore

/// The metadata store on one SQLite file (GRDB `DatabasePool`, WAL, `synchronous=FULL`),
/// so that a committed transaction survives power loss.
///
/// Reads use GRDB's asynchronous API, which runs them on GRDB's reader queues rather than on
/// the cooperative thread pool. Writes take SQLite's write lock, one transaction at a time:
/// that serializes every pair of operations the rules on ``GarbageCollector`` need serialized.
/// Each operation lives in the extension for its area (uploads, blobs, manifests, listing).
public final class SQLiteMetadataStore: Sendable {
    public let path: String
    let pool: DatabasePool
    /// True when the database has the `search-1` trigram index of repository names.
    let searchesNames: Bool

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(15)
        configuration.label = "registry"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Set on the writer after the pool is open: GRDB turns WAL on with `synchronous =
            // NORMAL` after `prepareDatabase` runs, and NORMAL does not fsync the WAL at commit
            // (a committed row could vanish on power loss). tests/integration/test_durability_trace.py
            // checks the fsync in the system calls.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            try SQLiteSchema.migrator.migrate(pool)
            searchesNames = try pool.read { try $0.tableExists("repository_search") }
        } catch let error as DatabaseError {
            throw SQLiteFailure(error)
        }
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL).
    func writerSynchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Checkpoints the WAL and closes the database.
    public func close() throws {
        pool.writeWithoutTransaction { db in
            _ = try? db.checkpoint(.truncate)
        }
        try pool.close()
    }

    static var now: Double { Date().timeIntervalSince1970 }

    // MARK: Running statements

    /// A read transaction on one of GRDB's reader queues.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw SQLiteFailure(error)
        }
    }

    /// A durable write transaction: it commits with an fsync of the WAL.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw SQLiteFailure(error)
        }
    }

    /// A write transaction whose loss in a power cut harms nothing (a reservation, an upload's
    /// progress: what they record is re-checked against the bytes). It commits without an
    /// fsync; the next durable commit makes it durable too, since the WAL is one file.
    func lightWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = OFF")
                defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "transaction returned nothing") }
                return result
            }
        } catch let error as DatabaseError {
            throw SQLiteFailure(error)
        }
    }

    // MARK: Helpers

    static func repositoryID(_ repository: RepositoryName, in db: Database, create: Bool) throws -> Int64? {
        if let id = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM repository WHERE name = ?"), arguments: [repository.value])
        {
            return id
        }
        guard create else { return nil }
        try db.execute(
            sql: "INSERT INTO repository (name, created_at) VALUES (?, ?)", arguments: [repository.value, now])
        return db.lastInsertedRowID
    }

    /// Links a blob into a repository, or refreshes the link's time.
    static func link(_ digest: Digest, into repositoryID: Int64?, in db: Database, at time: Double) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO repository_blob (repository_id, digest, linked_at) VALUES (?, ?, ?)
                ON CONFLICT(repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at
                """
        ).execute(arguments: [repositoryID, digest.description, time])
    }

    /// A list of digests as one JSON array argument, for `json_each`.
    static func jsonArray(_ values: [String]) -> String {
        String(decoding: (try? JSONEncoder().encode(values)) ?? Data("[]".utf8), as: UTF8.self)
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}

/// A SQLite error in the terms the layers above understand.
struct SQLiteFailure: StorageFailure, CustomStringConvertible {
    let error: DatabaseError

    init(_ error: DatabaseError) { self.error = error }

    var storageCondition: StorageCondition {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: .temporarilyUnavailable
        case .SQLITE_FULL: .noSpace
        case .SQLITE_READONLY: .readOnly
        default: .failed
        }
    }

    var description: String {
        let message = error.message ?? "\(error.resultCode)"
        return storageCondition == .temporarilyUnavailable ? "database busy: \(message)" : "database: \(message)"
    }
}

extension SQLiteMetadataStore: MetadataStore {}
