import Synchronization

/// Runs operations that must give up after a deadline, checked by one coarse ticker.
///
/// A database that stops answering must become a 503 after `connecttimeout` (at least 5 s),
/// not a request that hangs. postgres-nio ends a wait for a pooled connection when its task
/// is cancelled, but not a query already sent: that waits for the server. So the operation
/// runs in a task of its own, and the caller waits for whichever comes first, its result or
/// the deadline. On the deadline the caller gets ``Passed`` at once, and the operation's task
/// is cancelled; it ends when postgres-nio lets it (a task group would have made the caller
/// wait for that too).
///
/// Why not a timer per operation: racing a child task against a sleeping one cost a task
/// group, two tasks and an event loop timer armed and cancelled from another thread, on
/// every read. Under wrk at 64 connections on the tag list that was a quarter of the
/// throughput (3,700 against 4,700 requests a second without any deadline). Here an
/// operation costs one task and two dictionary updates under a lock; one task wakes every
/// ``resolution`` while operations are in flight, and stops when none are. A deadline fires
/// up to one resolution late, which does not matter for deadlines of seconds.
final class RequestDeadlines: Sendable {
    /// Thrown by ``run(within:_:)`` when the deadline passed first.
    struct Passed: Error {}

    let resolution: Duration

    private struct Waiter {
        let expires: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
        var ticking = false
    }

    private let state = Mutex(State())

    init(resolution: Duration = .milliseconds(100)) {
        self.resolution = resolution
    }

    /// `body`'s result, or ``Passed`` once `limit` has passed. Cancelling the caller cancels
    /// `body` (which then usually throws `CancellationError`).
    func run<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.wait(continuation)
                let id = register(expires: .now + limit) { outcome.finish(.failure(Passed())) }
                outcome.attach(
                    Task {
                        let result: Result<T, any Error>
                        do {
                            result = .success(try await body())
                        } catch {
                            result = .failure(error)
                        }
                        self.deregister(id)
                        outcome.finish(result)
                    })
            }
        } onCancel: {
            outcome.cancelWork()
        }
    }

    /// The number of operations in flight (for tests).
    var inFlight: Int { state.withLock { $0.waiters.count } }

    private func register(expires: ContinuousClock.Instant, _ expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startTicker) = state.withLock { state in
            state.nextID &+= 1
            state.waiters[state.nextID] = Waiter(expires: expires, expire: expire)
            defer { state.ticking = true }
            return (state.nextID, !state.ticking)
        }
        if startTicker { Task { await tick() } }
        return id
    }

    private func deregister(_ id: UInt64) {
        _ = state.withLock { $0.waiters.removeValue(forKey: id) }
    }

    /// Expires what is due every ``resolution``, until nothing is in flight.
    private func tick() async {
        while true {
            try? await Task.sleep(for: resolution)
            let now = ContinuousClock.now
            let (due, stop) = state.withLock { state in
                let due = state.waiters.filter { $0.value.expires <= now }
                for id in due.keys { state.waiters.removeValue(forKey: id) }
                if state.waiters.isEmpty { state.ticking = false }
                return (due.values.map(\.expire), !state.ticking)
            }
            for expire in due { expire() }
            if stop { return }
        }
    }
}

/// The one result of a ``RequestDeadlines/run(within:_:)``: the first of the operation's end
/// and its deadline resumes the caller; the other finds nothing left to do.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var finished = false
        var cancelled = false
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    /// The task running the operation; cancelled at once when the caller already was.
    func attach(_ work: Task<Void, Never>) {
        let cancel = state.withLock { state in
            state.work = work
            return state.cancelled || state.finished
        }
        if cancel { work.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, work) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.work)
        }
        guard let continuation else { return }
        continuation.resume(with: result)
        // On the deadline the operation is still running: stop what can be stopped.
        if case .failure(let error) = result, error is RequestDeadlines.Passed { work?.cancel() }
    }

    func cancelWork() {
        let work = state.withLock { state in
            state.cancelled = true
            return state.work
        }
        work?.cancel()
    }
}
