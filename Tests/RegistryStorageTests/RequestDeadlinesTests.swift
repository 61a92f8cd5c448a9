import PostgresNIO
import Synchronization
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The deadline the PostgreSQL store puts on request-path operations, and the pool settings
/// that keep postgres-nio from arming long timers on every request.
@Suite struct RequestDeadlinesTests {
    struct Refused: Error {}

    /// An operation that waits until released and ignores cancellation, as a query sent to a
    /// server that stopped answering does.
    final class Hang: Sendable {
        private let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let released = Mutex(false)

        func wait() async {
            await withCheckedContinuation { continuation in
                let resumeNow = released.withLock { released in
                    if !released { waiting.withLock { $0 = continuation } }
                    return released
                }
                if resumeNow { continuation.resume() }
            }
        }

        func release() {
            released.withLock { $0 = true }
            waiting.withLock { $0.take() }?.resume()
        }
    }

    @Test func returnsTheOperationsValueAndError() async throws {
        let deadlines = RequestDeadlines()
        #expect(try await deadlines.run(within: .seconds(5)) { 42 } == 42)
        let missing: String? = try await deadlines.run(within: .seconds(5)) { nil }
        #expect(missing == nil)
        await #expect(throws: Refused.self) { try await deadlines.run(within: .seconds(5)) { throw Refused() } }
        #expect(deadlines.inFlight == 0)
    }

    @Test func theDeadlineEndsTheWaitEvenWhenTheOperationIgnoresCancellation() async throws {
        let deadlines = RequestDeadlines(resolution: .milliseconds(20))
        let hang = Hang()
        let started = ContinuousClock.now
        await #expect(throws: RequestDeadlines.Passed.self) {
            try await deadlines.run(within: .milliseconds(200)) { await hang.wait() }
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(200))
        // Far below forever, with room for a machine busy with other tests.
        #expect(waited < .seconds(60))
        #expect(deadlines.inFlight == 0)
        hang.release()
    }

    @Test func cancellingTheCallerCancelsTheOperation() async throws {
        let deadlines = RequestDeadlines()
        let started = ContinuousClock.now
        let caller = Task { try await deadlines.run(within: .seconds(600)) { try await Task.sleep(for: .seconds(600)) } }
        try await Task.sleep(for: .milliseconds(20))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(deadlines.inFlight == 0)
    }

    @Test func aCallerCancelledBeforeItStartsDoesNotWait() async throws {
        let deadlines = RequestDeadlines()
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await deadlines.run(within: .seconds(600)) { try await Task.sleep(for: .seconds(600)) }
        }
        await #expect(throws: CancellationError.self) { try await caller.value }
    }

    @Test func manyOperationsSomePastTheirDeadlineAllEndOnce() async throws {
        let deadlines = RequestDeadlines(resolution: .milliseconds(5))
        let (ok, passed) = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<2_000 {
                group.addTask {
                    do {
                        let value = try await deadlines.run(within: .milliseconds(index % 40)) {
                            try await Task.sleep(for: .microseconds((index % 7) * 3_000))
                            return index
                        }
                        #expect(value == index)
                        return true
                    } catch is RequestDeadlines.Passed {
                        return false
                    }
                }
            }
            var counts = (0, 0)
            for try await finished in group {
                if finished { counts.0 += 1 } else { counts.1 += 1 }
            }
            return counts
        }
        #expect(ok + passed == 2_000)
        #expect(deadlines.inFlight == 0)
    }

    @Test func poolArmsNoKeepAliveAndShortIdleTimers() throws {
        var database = RegistryConfiguration.Database()
        database.pool.maxLifetime = .seconds(300)
        var client = try PostgresConnectionSettings.client(database)
        #expect(client.options.keepAliveBehavior == nil)
        #expect(client.options.connectionIdleTimeout == PostgresConnectionSettings.longestIdleTime)
        database.pool.maxLifetime = .seconds(2)
        client = try PostgresConnectionSettings.client(database)
        #expect(client.options.connectionIdleTimeout == .seconds(2))
        database.pool.maxLifetime = nil
        client = try PostgresConnectionSettings.client(database)
        #expect(client.options.connectionIdleTimeout == PostgresConnectionSettings.longestIdleTime)
    }
}
