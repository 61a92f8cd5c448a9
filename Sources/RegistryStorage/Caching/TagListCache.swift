import Synchronization

/// Whole tag lists of repositories, held by one registryd of a fleet so that `tags/list` needs
/// no database query.
///
/// This type only keeps the entries and the two rules that make them safe to serve; deciding
/// *when* they are safe is ``PostgresCacheCoherence``'s job:
///
/// - **A lease.** Entries are served only until ``validUntil``, which the coherence renews
///   while its node holds a lease in the database. A writer waits for the acknowledgement of
///   every node whose lease is live (see ``PostgresCacheCoherence/awaitBarrier()``); a node
///   that lets its lease run out stops serving before any writer stops waiting for it, and
///   starts over empty when it gets a lease again.
/// - **A generation.** Every invalidation bumps it. A list read from the database is stored
///   only if no invalidation happened since the read began (its ``Ticket``), so a read that
///   raced a change can never put the old list back after the change was acknowledged.
final class TagListCache: Sendable {
    /// Taken before reading from the database; a store with a ticket from an older
    /// generation is dropped.
    struct Ticket: Sendable {
        fileprivate let generation: UInt64
    }

    /// Lists longer than this are not kept (their pages come from the database's index).
    let maximumTags: Int
    /// The most bytes of names kept over all repositories; the oldest entries go first.
    let byteBudget: Int
    private let state = Mutex(State())

    private struct State {
        var entries: [String: [String]] = [:]
        /// Repositories in the order their entries were stored, for eviction.
        var order: [String] = []
        var bytes = 0
        var generation: UInt64 = 0
        var validUntil: ContinuousClock.Instant?

        func isValid(at now: ContinuousClock.Instant) -> Bool { validUntil.map { now < $0 } ?? false }

        mutating func clear() {
            generation &+= 1
            entries.removeAll()
            order.removeAll()
            bytes = 0
        }
    }

    init(maximumTags: Int = 1_000, byteBudget: Int = 2 << 20) {
        self.maximumTags = maximumTags
        self.byteBudget = byteBudget
    }

    /// Bumped by every invalidation; also what ``PostgresCacheCoherence`` reports as its
    /// change generation.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// The instant until which entries may be served; nil while there is no lease.
    var validUntil: ContinuousClock.Instant? { state.withLock { $0.validUntil } }

    /// The whole list of `repository`, when held and the lease is live.
    func lookup(_ repository: String, now: ContinuousClock.Instant = .now) -> [String]? {
        state.withLock { state in state.isValid(at: now) ? state.entries[repository] : nil }
    }

    /// A ticket for a read about to start, or nil when nothing read now may be kept.
    func ticket(now: ContinuousClock.Instant = .now) -> Ticket? {
        state.withLock { state in state.isValid(at: now) ? Ticket(generation: state.generation) : nil }
    }

    /// Keeps `names` (the whole list, in byte order) unless an invalidation happened since
    /// `ticket` was taken, the lease ran out, or the list is too long.
    func store(_ names: [String], for repository: String, ticket: Ticket, now: ContinuousClock.Instant = .now) {
        guard names.count <= maximumTags else { return }
        let size = Self.cost(repository, names)
        guard size <= byteBudget / 4 else { return }
        state.withLock { state in
            guard state.generation == ticket.generation, state.isValid(at: now) else { return }
            if let old = state.entries.removeValue(forKey: repository) {
                state.bytes -= Self.cost(repository, old)
                state.order.removeAll { $0 == repository }
            }
            while state.bytes + size > byteBudget, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                if let old = state.entries.removeValue(forKey: oldest) { state.bytes -= Self.cost(oldest, old) }
            }
            state.entries[repository] = names
            state.order.append(repository)
            state.bytes += size
        }
    }

    /// Drops every entry: some tag was added, removed or renamed somewhere in the fleet, or a
    /// notification may have been missed.
    func invalidateAll() {
        state.withLock { $0.clear() }
    }

    /// The lease was renewed by a statement sent at `sentAt`: entries may be served for
    /// `validity` from then. After a lapse the node may have missed invalidations (no writer
    /// waited for it), so it starts over empty.
    func renewed(sentAt: ContinuousClock.Instant, validity: Duration, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            if !state.isValid(at: now) { state.clear() }
            state.validUntil = sentAt + validity
        }
    }

    /// No lease any more (the listening connection ended, or the node stops).
    func lapse() {
        state.withLock { state in
            state.validUntil = nil
            state.clear()
        }
    }

    /// The page of `names` (a whole list in byte order) after `last`, at most `limit` long.
    static func page(of names: [String], after last: String?, limit: Int?) -> [String] {
        var start = names.startIndex
        if let last {
            // Binary search for the first name after `last` in byte order (the database's "C"
            // collation, which `tags/list` promises).
            var low = names.startIndex
            var high = names.endIndex
            while low < high {
                let middle = (low + high) / 2
                if precedesOrEquals(names[middle], last) { low = middle + 1 } else { high = middle }
            }
            start = low
        }
        let end = limit.map { min(names.endIndex, start + max(0, $0)) } ?? names.endIndex
        return Array(names[start..<end])
    }

    private static func precedesOrEquals(_ a: String, _ b: String) -> Bool {
        !b.utf8.lexicographicallyPrecedes(a.utf8)
    }

    private static func cost(_ repository: String, _ names: [String]) -> Int {
        names.reduce(repository.utf8.count + 64) { $0 + $1.utf8.count + 16 }
    }
}
