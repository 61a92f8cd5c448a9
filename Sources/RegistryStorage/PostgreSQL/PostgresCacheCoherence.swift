import Foundation
import Logging
import PostgresNIO
import RegistryCore
import Synchronization

/// Keeps each node's ``TagListCache`` coherent across a fleet, so that a tag list is served
/// from memory and yet, once any node answered 201 for a change of a repository's tags, no
/// node serves the old list. Also the fleet's ``ChangeNotifier`` (gc and fsck announce on
/// the same channel).
///
/// Three parts, all in PostgreSQL:
///
/// 1. **Notifications in the writing transaction.** Triggers on `tag` (migration 5) call
///    `pg_notify('berth_cache', 't')` for every row inserted, deleted or renamed, whichever
///    process or statement does it (a manifest delete's cascade, `registryctl`, psql). A
///    notification is delivered if and only if its transaction commits, to every listening
///    session, in commit order.
/// 2. **Leases.** A node that serves cached lists (registryd) holds one connection in LISTEN
///    and, only after LISTEN took effect, keeps a row in `cache_lease` whose `expires_at` it
///    pushes ``leaseDuration`` ahead every ``renewalInterval``. It serves entries only until
///    ``leaseDuration`` minus ``safetyMargin`` after it *sent* the renewal, by its own
///    monotonic clock, so its local validity always ends before the database's `expires_at`.
/// 3. **Barriers.** After committing a change of a tag set, and before answering, the writer
///    calls ``awaitBarrier()``: one statement NOTIFYs `b <token>` and reads the nodes whose lease
///    is live; the writer waits until each of them answered `a <token> <node>`, or its lease
///    ran out.
///
/// Why no node serves a stale list after the writer's 201. Let W be the change, committed
/// before the barrier statement B:
///
/// - A node whose lease B saw live acknowledges B only after handling every notification
///   delivered before it, W's among them (commit order), and handling W's bumps the cache's
///   generation and empties it. A list read from the database before that bump cannot be
///   stored after it (``TagListCache/Ticket``); a read begun after it began after W's commit
///   and sees W.
/// - A node whose lease B saw expired had stopped serving before B (its local validity ends
///   first); it empties its cache when it next renews, after B, so everything it stores later
///   was read after W's commit.
/// - A node whose lease B did not see at all registered after B's snapshot, so after W's
///   commit, with an empty cache.
/// - A connection that drops ends the lease locally at once (``TagListCache/lapse()``); a
///   connection that hangs stops renewing, and the writer stops waiting when the database's
///   `expires_at` passes, by which time the node's own validity has already ended.
public final class PostgresCacheCoherence: ChangeNotifier {
    static let channel = "berth_cache"
    /// How far ahead a renewal pushes the lease: the longest a writer waits for a node that
    /// died without deleting its lease.
    static let leaseDuration: Duration = .seconds(3)
    static let renewalInterval: Duration = .seconds(1)
    /// Subtracted from the local validity: covers a response already being written when the
    /// lease ends.
    static let safetyMargin: Duration = .milliseconds(500)

    /// This process's name in `cache_lease` and in acknowledgements.
    let node = UUID().uuidString.lowercased()
    let tagLists = TagListCache()
    /// True in registryd: holds a lease and serves cached lists. registryctl only writes and
    /// waits for acknowledgements.
    let servesCachedReads: Bool
    private let client: PostgresClient
    private let logger: Logger
    /// Acknowledgements received, by barrier token, while a writer waits for them.
    private let acknowledgements = Mutex<[String: Set<String>]>([:])
    private let listening = Mutex<Task<Void, Never>?>(nil)

    init(client: PostgresClient, logger: Logger, servesCachedReads: Bool) {
        self.client = client
        self.logger = logger
        self.servesCachedReads = servesCachedReads
    }

    /// Starts the listening task (once the schema is known to have `cache_lease`).
    func start() {
        let task = Task { [self] in
            while !Task.isCancelled {
                do {
                    try await listen()
                } catch {
                    if Task.isCancelled { break }
                    logger.debug("cache listener: \(PostgresFailure(error).description); listening again")
                }
                tagLists.lapse()
                try? await Task.sleep(for: .seconds(1))
            }
            tagLists.lapse()
        }
        listening.withLock { $0 = task }
    }

    /// Stops listening and gives up the lease, so that no writer waits for this node. Does
    /// nothing when ``start()`` never ran (a failed open: the database may be unreachable).
    func stop() async {
        guard let task = listening.withLock({ $0 }) else { return }
        task.cancel()
        await task.value
        guard servesCachedReads else { return }
        // A database that is gone must not hold the stop up: the lease then runs out alone.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [client, node, logger] in
                _ = try? await client.query("DELETE FROM cache_lease WHERE node = \(node)", logger: logger)
            }
            group.addTask { try? await Task.sleep(for: .seconds(2)) }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: ChangeNotifier

    public func generation() -> UInt64 { tagLists.generation }

    public func announce() async throws {
        do {
            try await client.query("SELECT pg_notify(\(Self.channel), 'changed')", logger: logger)
        } catch {
            throw PostgresFailure(error)
        }
        tagLists.invalidateAll()
    }

    // MARK: Writers

    /// Returns once no node of the fleet can serve a tag list from before the caller's
    /// committed change (see the type's documentation); throws a 503-worthy failure when a
    /// node with a live lease neither acknowledges nor lets its lease run out within `limit`.
    func awaitBarrier(limit: Duration) async throws {
        let started = ContinuousClock.now
        var waitingFor: Set<String>?
        while true {
            let token = UUID().uuidString.lowercased()
            acknowledgements.withLock { $0[token] = [] }
            defer { _ = acknowledgements.withLock { $0.removeValue(forKey: token) } }
            let live: [String]
            do {
                // The NOTIFY sits in a subquery of FROM so that it runs exactly once, whatever
                // the number of leases.
                live = try await client.query(
                    """
                    SELECT (SELECT coalesce(array_agg(node), '{}'::text[]) FROM cache_lease
                            WHERE expires_at > \(unescaped: PostgresMetadataStore.now))
                    FROM (SELECT pg_notify(\(Self.channel), \("b " + token))) AS barrier
                    """, logger: logger
                ).collect().first?.decode([String].self) ?? []
            } catch {
                throw PostgresFailure(error)
            }
            // Nodes that registered after the first barrier began empty after the change.
            var remaining = waitingFor.map { $0.intersection(live) } ?? Set(live)
            let round = ContinuousClock.now + .milliseconds(250)
            var pause = Duration.microseconds(100)
            while true {
                remaining.subtract(acknowledgements.withLock { $0[token] ?? [] })
                if remaining.isEmpty { return }
                if ContinuousClock.now >= round { break }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(10))
            }
            // Send a new barrier: its acknowledgement implies this one's, and the lease query
            // drops nodes whose lease ran out meanwhile.
            waitingFor = remaining
            if ContinuousClock.now - started > limit {
                logger.error("tag list caches of \(remaining.count) node(s) did not acknowledge a change within \(limit)")
                throw PostgresFailure(
                    .temporarilyUnavailable, "\(remaining.count) registry node(s) did not acknowledge a tag change")
            }
        }
    }

    // MARK: Listening

    private func listen() async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.channel) { notifications in
                // LISTEN has taken effect: every change committed from now on reaches this node.
                // Anything cached before may have missed one.
                self.tagLists.invalidateAll()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if self.servesCachedReads {
                        group.addTask { try await self.renewLease(on: connection) }
                    }
                    do {
                        for try await notification in notifications {
                            try await self.handle(notification.payload, on: connection)
                        }
                    } catch {
                        group.cancelAll()
                        throw error
                    }
                    group.cancelAll()
                }
            }
        }
    }

    private func handle(_ payload: String, on connection: PostgresConnection) async throws {
        let words = payload.split(separator: " ")
        switch words.first {
        case "b":
            // Every notification committed before this barrier was handled before it.
            guard servesCachedReads, words.count == 2 else { return }
            try await connection.query(
                "SELECT pg_notify(\(Self.channel), \("a \(words[1]) \(node)"))", logger: logger)
        case "a":
            guard words.count == 3 else { return }
            let token = String(words[1])
            let node = String(words[2])
            acknowledgements.withLock { waiting in waiting[token]?.insert(node) }
        default:
            tagLists.invalidateAll()
        }
    }

    /// Inserts or pushes ahead this node's lease every ``renewalInterval``, on the listening
    /// connection (a connection that stops answering stops renewing). The same statement drops
    /// leases that ran out (nodes killed without giving theirs up): no writer waits for an
    /// expired lease anyway, and a node whose lease ran out starts over empty when it renews.
    private func renewLease(on connection: PostgresConnection) async throws {
        let seconds = Double(Self.leaseDuration.components.seconds)
        while true {
            let sent = ContinuousClock.now
            do {
                try await connection.query(
                    """
                    WITH expired AS (DELETE FROM cache_lease
                                     WHERE expires_at < \(unescaped: PostgresMetadataStore.now) AND node <> \(node))
                    INSERT INTO cache_lease (node, expires_at) VALUES (\(node), \(unescaped: PostgresMetadataStore.now) + \(seconds))
                    ON CONFLICT (node) DO UPDATE SET expires_at = excluded.expires_at
                    """, logger: logger)
                tagLists.renewed(sentAt: sent, validity: Self.leaseDuration - Self.safetyMargin)
            } catch {
                logger.debug("cache lease: \(PostgresFailure(error).description)")
            }
            try await Task.sleep(for: Self.renewalInterval)
        }
    }
}
