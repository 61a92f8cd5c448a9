import Hummingbird
import Logging
import Prometheus
import RegistryCore
import RegistryStorage
import ServiceLifecycle
import Synchronization

extension RegistryServer {
    /// Runs the listeners until SIGTERM or SIGINT, then stops accepting connections and gives
    /// requests in flight up to `http.draintimeout` to finish before cancelling them.
    ///
    /// Returns normally after a signal, also when the drain time ran out: an upload cut off
    /// keeps its session (and hash state), so the client can resume it after a restart.
    func serve(_ listeners: [any Service]) async throws {
        let notice = ShutdownNotice(drainTimeout: configuration.http.drainTimeout, logger: logger)
        // Services stop in reverse order: the notice first, then the main listener drains,
        // then the debug listener, so metrics stay readable during the drain.
        var group = ServiceGroupConfiguration(
            services: listeners.map { .init(service: $0) } + [.init(service: notice, successTerminationBehavior: .ignore)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.http.drainTimeout
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            guard notice.began != nil else { throw error }
        }
        if let began = notice.began, ContinuousClock.now - began >= configuration.http.drainTimeout {
            logger.warning("requests still running after http.draintimeout were cancelled")
        }
    }

    /// The debug listener on `http.debug.addr`, with Prometheus metrics when enabled.
    func debugListener(
        _ settings: RegistryConfiguration.Debug, health: HealthMonitor, prometheus: PrometheusCollectorRegistry?,
        statistics: @escaping @Sendable () async throws -> RegistryStatistics
    ) -> any Service {
        if !RegistryConfiguration.isLoopback(settings.host) {
            logger.warning(
                "http.debug.addr \(settings.host):\(settings.port) is reachable from other hosts; it serves health and metrics without authentication"
            )
        }
        let metrics = prometheus.map {
            DebugResponder.Metrics(
                registry: $0, path: settings.prometheusPath,
                storage: StorageMetrics(statistics: statistics, health: health))
        }
        let gatesRequests = configuration.health.storageDriver.enabled
        return Application(
            responder: DebugResponder(health: HealthEndpoint(monitor: health, gatesRequests: gatesRequests), metrics: metrics),
            configuration: .init(address: .hostname(settings.host, port: settings.port)),
            logger: logger)
    }
}

/// Logs when a graceful shutdown begins and remembers that it did.
private final class ShutdownNotice: Service, Sendable {
    private let drainTimeout: Duration
    private let logger: Logger
    private let start = Mutex<ContinuousClock.Instant?>(nil)

    init(drainTimeout: Duration, logger: Logger) {
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    /// When the graceful shutdown began, if it did.
    var began: ContinuousClock.Instant? { start.withLock { $0 } }

    func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        start.withLock { $0 = .now }
        logger.info(
            "shutting down: no new connections; requests in flight have up to \(drainTimeout) to finish")
    }
}
