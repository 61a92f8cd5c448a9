import Logging
import PostgresNIO
import RegistryCore
import Synchronization

/// Tells every node that another process (`registryctl gc`, `fsck --repair`) changed the
/// metadata, over PostgreSQL's LISTEN/NOTIFY on the channel `berth_changes`.
///
/// ``announce()`` is a NOTIFY (delivered to every listening session when its transaction
/// commits); a listener task holds one pooled connection in LISTEN and bumps the generation
/// on every notification, and also whenever it (re)connects, because notifications sent while
/// it was away are lost. Nothing here decides what a client reads: the PostgreSQL stores
/// serve no cached rows (see ``RegistryStores/cachesMetadata``), so this only resets
/// per-node caches of derived values.
public final class PostgresChangeNotifier: ChangeNotifier {
    static let channel = "berth_changes"
    private let client: PostgresClient
    private let current = Generation()
    private let listening = Mutex<Task<Void, Never>?>(nil)

    /// The counter, shared with the listener task.
    private final class Generation: Sendable {
        private let value = Atomic<UInt64>(0)
        func bump() { value.add(1, ordering: .relaxed) }
        func load() -> UInt64 { value.load(ordering: .relaxed) }
    }

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        let counter = self.current
        let task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.channel) { notifications in
                            counter.bump()
                            for try await _ in notifications { counter.bump() }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.debug("change listener: \(PostgresFailure(error).description); listening again")
                }
                counter.bump()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listening.withLock { $0 = task }
    }

    public func generation() -> UInt64 { current.load() }

    public func announce() async throws {
        do {
            try await client.query("SELECT pg_notify(\(Self.channel), '')")
        } catch {
            throw PostgresFailure(error)
        }
        current.bump()
    }

    /// Stops listening (before the pool closes).
    func stop() async {
        let task = listening.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}
