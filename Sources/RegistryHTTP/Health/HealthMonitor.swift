import Logging
import RegistryService
import ServiceLifecycle
import Synchronization

/// Checks that storage takes writes and the database answers, and remembers the answer.
///
/// With `health.storagedriver.enabled` it runs every `interval` as a service; after
/// `threshold` failures in a row the registry reports itself unavailable until a check
/// passes again. `/healthz` is served from the last result and probes the stores at most
/// once a second, however often it is asked: it needs no authentication, so it must not be
/// a way to make the server write and fsync at will.
final class HealthMonitor: Service, Sendable {
    private struct State {
        var last: (report: StoreHealth, at: ContinuousClock.Instant)?
        var probing: Task<StoreHealth, Never>?
    }

    private let check: @Sendable () async -> StoreHealth
    private let interval: Duration
    private let threshold: Int
    private let logger: Logger
    private let consecutiveFailures = Atomic<Int>(0)
    private let state = Mutex(State())
    /// How long a result is served before the stores are probed again.
    static let freshness: Duration = .seconds(1)

    init(check: @escaping @Sendable () async -> StoreHealth, interval: Duration, threshold: Int, logger: Logger) {
        self.check = check
        self.interval = interval
        self.threshold = threshold
        self.logger = logger
    }

    /// False once the periodic check has failed `threshold` times in a row.
    var isServing: Bool { consecutiveFailures.load(ordering: .relaxed) < threshold }

    /// The last result if it is fresh, else a new probe (shared by everyone asking meanwhile).
    func report() async -> StoreHealth {
        let now = ContinuousClock.now
        let (fresh, probe): (StoreHealth?, Task<StoreHealth, Never>?) = state.withLock { state in
            if let last = state.last, now - last.at < Self.freshness { return (last.report, nil) }
            if let running = state.probing { return (nil, running) }
            let task = Task { await self.probe() }
            state.probing = task
            return (nil, task)
        }
        if let fresh { return fresh }
        return await probe?.value ?? StoreHealth(storage: "not checked", database: "not checked")
    }

    /// Runs both checks now and remembers the result.
    private func probe() async -> StoreHealth {
        let report = await check()
        state.withLock { state in
            state.last = (report, ContinuousClock.now)
            state.probing = nil
        }
        return report
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let report = await probe()
            if report.isHealthy {
                if consecutiveFailures.exchange(0, ordering: .relaxed) >= threshold {
                    logger.notice("health check passes again; serving")
                }
            } else {
                let failures = consecutiveFailures.add(1, ordering: .relaxed).newValue
                logger.error(
                    "health check failed",
                    metadata: [
                        "storage": "\(report.storage ?? "ok")", "database": "\(report.database ?? "ok")",
                        "failures": "\(failures)",
                    ])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
