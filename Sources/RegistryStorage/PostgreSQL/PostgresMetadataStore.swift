import Foundation
import Logging
import PostgresNIO
import RegistryCore

/// The metadata store on a PostgreSQL database shared by any number of registryd processes.
///
/// Each operation is one transaction at READ COMMITTED on a connection leased from
/// postgres-nio's pool (`database.pool`), with parameters bound, never spliced into SQL. The
/// rules that the SQLite store gets from its single writer are kept across processes by
/// locks inside the database, never by anything one process holds in memory:
///
/// - **The lifecycle lock.** Every operation that adds or removes a reference to a blob or a
///   manifest (reserve, record, mount, unlink, manifest put and delete, tag delete, fsck's
///   repair) first takes the transaction-level advisory lock ``lifecycleLock`` in shared
///   mode: they run side by side. Garbage collection's sweep and its claims of deletions take it
///   exclusively. So a sweep or a claim sees the database as a serial history would: no
///   reference appears while it decides what is unreferenced, and every statement it runs
///   after taking the lock sees every write committed before (READ COMMITTED takes a new
///   snapshot per statement). See ``sweep(_:)`` for the whole argument.
/// - **Row locks** for the checks that must hold at commit: a manifest put reads the links of
///   the blobs it references `FOR SHARE`, so an unlink waits for it (or it waits for the unlink
///   and then finds the link gone and refuses).
/// - **Compare-and-swap** for upload sessions: one `UPDATE … WHERE staged_size = expected`.
///
/// A serialization failure or deadlock reported by the server runs the transaction again
/// (at most three times). Operations on the request path give up after ``requestDeadline``
/// so that a database that stopped answering becomes a 503 with Retry-After rather than a
/// request that hangs.
public final class PostgresMetadataStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>
    /// How long a request-path operation may wait for the database.
    let requestDeadline: Duration
    private let deadlines = RequestDeadlines()
    /// A description for log lines: host, port, database, user; never the password.
    public let description: String
    /// The node's tag list cache and the fleet-wide protocol that keeps it coherent; nil in a
    /// store opened only to run or report schema migrations, which touches no tags.
    let coherence: PostgresCacheCoherence?

    /// The advisory lock key of the blob lifecycle ("BERTHGC1" as a 64-bit integer).
    static let lifecycleLock: Int64 = 0x4245_5254_4847_4331
    /// The advisory lock key that serializes `migrate up` across processes.
    static let migrationLock: Int64 = 0x4245_5254_4D49_4731
    /// The database server's clock, in seconds since 1970: the one clock every node shares.
    static let now = "extract(epoch from clock_timestamp())::float8"

    /// Connects, checks that the schema is exactly the one this build knows, and starts the
    /// pool and the cache listener. Throws ``DatabaseStartupFailure`` (one line) when the
    /// database cannot be reached within `connecttimeout` or its schema is not current.
    ///
    /// - Parameter servesCachedReads: hold a cache lease and answer tag lists from memory
    ///   (registryd); other processes only wait for the fleet's acknowledgements after a change.
    public static func open(
        _ settings: RegistryConfiguration.Database, logger: Logger? = nil, servesCachedReads: Bool = false
    ) async throws -> PostgresMetadataStore {
        let store = try PostgresMetadataStore(settings, logger: logger, coherent: true, servesCachedReads: servesCachedReads)
        do {
            let status = try await store.migrationStatus()
            if let refusal = PostgresSchema.refusal(status) { throw DatabaseStartupFailure(refusal) }
        } catch {
            await store.close()
            if let failure = error as? DatabaseStartupFailure { throw failure }
            throw DatabaseStartupFailure(
                "cannot reach the database \(settings.description): \(PostgresFailure(error).description)")
        }
        store.coherence?.start()
        return store
    }

    /// A store whose pool runs until ``close()``; nothing is checked and no cache listener
    /// runs. For `registryctl database migrate`.
    convenience init(_ settings: RegistryConfiguration.Database, logger: Logger?) throws {
        try self.init(settings, logger: logger, coherent: false, servesCachedReads: false)
    }

    private init(
        _ settings: RegistryConfiguration.Database, logger: Logger?, coherent: Bool, servesCachedReads: Bool
    ) throws {
        // postgres-nio reports each failed connection attempt at info and a lease made before
        // run() starts at warning: noise for registryd's log. Failures reach the caller as
        // errors (a 503, or the one-line startup error) instead.
        var logger = logger ?? Logger(label: "berth.postgres")
        logger.logLevel = .error
        let client = PostgresClient(configuration: try PostgresConnectionSettings.client(settings), backgroundLogger: logger)
        self.logger = logger
        self.client = client
        // The pool works only while run() runs; close() cancels it, which closes every connection.
        running = Task { await client.run() }
        requestDeadline = max(settings.connectTimeout, .seconds(5))
        description = settings.description
        coherence = coherent
            ? PostgresCacheCoherence(client: client, logger: logger, servesCachedReads: servesCachedReads) : nil
    }

    /// Gives up the cache lease and closes every connection.
    public func close() async {
        await coherence?.stop()
        running.cancel()
        await running.value
    }

    // MARK: Running transactions

    enum Locking {
        case none, shared, exclusive
    }

    /// Runs `body` in one transaction (committed, or rolled back when `commit` is false or
    /// `body` throws), within ``requestDeadline`` unless `deadline` is false.
    func transaction<T: Sendable>(
        _ locking: Locking = .none, commit: Bool = true, deadline: Bool = true,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let attempt: @Sendable () async throws -> T = { [client, logger] in
            try await client.withConnection { connection in try await PostgresPoolMetrics.leased {
                try await connection.query("BEGIN", logger: logger)
                do {
                    switch locking {
                    case .none: break
                    case .shared:
                        try await connection.query("SELECT pg_advisory_xact_lock_shared(\(Self.lifecycleLock))", logger: logger)
                    case .exclusive:
                        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lifecycleLock))", logger: logger)
                    }
                    let value = try await body(connection)
                    do {
                        try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: logger)
                    } catch {
                        // The transaction's state is unknown: this connection must not serve again.
                        try? await connection.close()
                        throw error
                    }
                    return value
                } catch {
                    do {
                        try await connection.query("ROLLBACK", logger: logger)
                    } catch {
                        // A connection that could not roll back (a cancelled request, a broken
                        // socket) would hand an open transaction to its next lease: drop it.
                        try? await connection.close()
                    }
                    throw error
                }
            } }
        }
        return try await measured(deadline: deadline, attempt)
    }

    /// Runs `body`, which sends exactly one statement, on a pooled connection outside an
    /// explicit transaction, with ``transaction(_:commit:deadline:_:)``'s retries, deadline and
    /// metrics. PostgreSQL runs a lone statement as a transaction of its own, so `BEGIN` and
    /// `COMMIT` around it add two round trips and nothing else: a manifest GET or a blob HEAD
    /// was three round trips, and is one. Reads that need two statements to agree, and every
    /// write of more than one statement, use ``transaction(_:commit:deadline:_:)``.
    func statement<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let attempt: @Sendable () async throws -> T = { [client] in
            try await client.withConnection { connection in try await PostgresPoolMetrics.leased { try await body(connection) } }
        }
        return try await measured(deadline: true, attempt)
    }

    /// `attempt` with retries (``retryingTransaction(deadline:_:)``), counted and timed in
    /// the pool's metrics.
    private func measured<T: Sendable>(deadline: Bool, _ attempt: @escaping @Sendable () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        do {
            let value = try await retryingTransaction(deadline: deadline, attempt)
            PostgresPoolMetrics.transaction(.ok, nanoseconds: PostgresPoolMetrics.since(started))
            return value
        } catch let error as PostgresFailure {
            PostgresPoolMetrics.transaction(.failed, nanoseconds: PostgresPoolMetrics.since(started))
            throw error
        } catch {
            PostgresPoolMetrics.transaction(.refused, nanoseconds: PostgresPoolMetrics.since(started))
            throw error
        }
    }

    /// `attempt`, again after a failure worth retrying (a dropped connection, a serialization
    /// failure), at most three times.
    private func retryingTransaction<T: Sendable>(
        deadline: Bool, _ attempt: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        var tries = 0
        while true {
            tries += 1
            do {
                return deadline ? try await withDeadline(attempt) : try await attempt()
            } catch let error as RegistryError {
                throw error
            } catch let error as BlobBeingDeleted {
                throw error
            } catch let error as DatabaseStartupFailure {
                throw error
            } catch let error as CancellationError {
                throw error
            } catch {
                if tries < 3, PostgresFailure.isRetryable(error) { continue }
                throw PostgresFailure(error)
            }
        }
    }

    /// Runs `body`, or fails as temporarily unavailable once ``requestDeadline`` passed.
    private func withDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await deadlines.run(within: requestDeadline, body)
        } catch is RequestDeadlines.Passed {
            throw PostgresFailure(.temporarilyUnavailable, "the database did not answer within \(requestDeadline)")
        }
    }

    public func ping() async throws {
        try await statement { connection in _ = try await connection.query("SELECT 1", logger: self.logger).collect() }
    }

    // MARK: Helpers used by the extensions

    /// The id of a repository, created when `create` is true (concurrent creators agree:
    /// the loser of the unique-name race waits for the winner and then reads its row).
    static func repositoryID(_ repository: RepositoryName, on connection: PostgresConnection, create: Bool, logger: Logger)
        async throws -> Int64?
    {
        if create {
            try await connection.query(
                """
                INSERT INTO repository (name, created_at) VALUES (\(repository.value), \(unescaped: now))
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
        }
        return try await connection.query("SELECT id FROM repository WHERE name = \(repository.value)", logger: logger)
            .collect().first?.decode(Int64.self)
    }

    /// Links a blob into a repository, or refreshes the link's time.
    static func link(_ digest: Digest, into repositoryID: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO repository_blob (repository_id, digest, linked_at) VALUES (\(repositoryID), \(digest.description), \(unescaped: now))
            ON CONFLICT (repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at
            """, logger: logger)
    }
}

extension PostgresMetadataStore: MetadataStore {}
