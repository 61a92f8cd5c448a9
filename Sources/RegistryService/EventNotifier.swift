import Foundation
import RegistryCore
import RegistryStorage
import Synchronization

/// Makes the events of the notification endpoints. Changes hand theirs to the store, which
/// writes them in the change's own transaction (see ``EventOutboxStore``). Pulls change
/// nothing, so they have no transaction to join: their events are queued here in memory (no
/// I/O, no await on the request path) and written to the outbox in batches by ``flushPulls()``,
/// every ``pullInterval`` and at shutdown. A crash loses at most that interval's pull events.
public final class EventNotifier: Sendable {
    /// How often registryd writes queued pull events.
    public static let pullInterval: Duration = .seconds(1)
    /// The most pull events held between writes; further ones are dropped (and counted) so
    /// that a flood of pulls while the database is down cannot grow memory without bound.
    public static let pullCapacity = 10_000

    public let source: RegistryEvent.Source
    public let outbox: any EventOutboxStore
    /// Whether pull events are wanted at all (false when every endpoint ignores them).
    let recordsPulls: Bool
    private let pendingPulls = Mutex<[RegistryEvent]>([])
    private let droppedPulls = Atomic<Int>(0)

    public init(source: RegistryEvent.Source, outbox: any EventOutboxStore, recordsPulls: Bool = true) {
        self.source = source
        self.outbox = outbox
        self.recordsPulls = recordsPulls
    }

    /// An event of `action` on `target`, from the current request's ``EventOrigin``.
    func event(_ action: RegistryEvent.Action, _ target: RegistryEvent.Target, urlPath: String?) -> RegistryEvent {
        let origin = EventOrigin.current
        var target = target
        if let urlPath, let origin { target.url = origin.baseURL + urlPath }
        return RegistryEvent(
            action: action, target: target,
            request: origin?.request ?? RegistryEvent.Request(id: "", addr: nil, host: nil, method: "", useragent: ""),
            actor: origin?.actor ?? RegistryEvent.Actor(name: nil), source: source)
    }

    /// Queues a pull event for the next ``flushPulls()``.
    func notePull(_ event: RegistryEvent) {
        guard recordsPulls else { return }
        let kept = pendingPulls.withLock { pending in
            guard pending.count < Self.pullCapacity else { return false }
            pending.append(event)
            return true
        }
        if !kept { droppedPulls.add(1, ordering: .relaxed) }
    }

    /// Pull events queued and not yet written.
    public var pendingPullCount: Int { pendingPulls.withLock { $0.count } }

    /// Pull events dropped because the queue was full, since the start.
    public var droppedPullCount: Int { droppedPulls.load(ordering: .relaxed) }

    /// Writes the queued pull events in one transaction, in the order they were noted. When
    /// the store fails they are put back in front of any noted since (within the capacity)
    /// and the error is thrown.
    public func flushPulls() async throws {
        let batch = pendingPulls.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await outbox.appendEvents(batch)
        } catch {
            pendingPulls.withLock { pending in
                let room = max(0, Self.pullCapacity - pending.count)
                pending.insert(contentsOf: batch.prefix(room), at: 0)
            }
            throw error
        }
    }
}
