import NIOCore
import NIOPosix
import PostgresNIO
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The timer that races the PostgreSQL store's request deadline, and the pool settings that
/// keep postgres-nio from arming long timers on every request.
@Suite struct EventLoopTimerTests {
    @Test func sleepsForItsDuration() async throws {
        let started = ContinuousClock.now
        try await EventLoopTimer.sleep(for: .milliseconds(50))
        #expect(ContinuousClock.now - started >= .milliseconds(50))
    }

    @Test func cancellationEndsTheSleepAtOnceAndTakesTheTimerOffTheLoop() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let started = ContinuousClock.now
        let sleeper = Task { try await EventLoopTimer.sleep(for: .seconds(600), on: loop) }
        try await Task.sleep(for: .milliseconds(20))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // Far below the sleep's 600 s, with room for a machine busy with other tests (7 s seen).
        #expect(ContinuousClock.now - started < .seconds(120))
    }

    @Test func aTaskCancelledBeforeItSleepsDoesNotWait() async throws {
        let started = ContinuousClock.now
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await EventLoopTimer.sleep(for: .seconds(600))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(ContinuousClock.now - started < .seconds(120))
    }

    @Test func manySleepsCancelledOrNotAllEnd() async throws {
        // Timers that fire while their tasks are being cancelled: each sleep ends exactly once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2_000 {
                group.addTask {
                    let sleeper = Task { try await EventLoopTimer.sleep(for: .microseconds(index % 50)) }
                    if index.isMultiple(of: 2) { sleeper.cancel() }
                    _ = try? await sleeper.value
                }
            }
            try await group.waitForAll()
        }
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
