import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import RegistryCore
import RegistryService
import RegistryStorage
import ServiceLifecycle

/// Serves the registry from its configuration over stores opened by ``RegistryStores``.
public struct RegistryServer {
    public static let version = "0.1.0"

    public let configuration: RegistryConfiguration
    public let logger: Logger

    public init(configuration: RegistryConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Checks TLS and authentication settings, opens the stores, recovers from an unclean
    /// stop, serves until SIGTERM or SIGINT, drains requests in flight for up to
    /// `http.draintimeout`, then closes the stores cleanly.
    public func run() async throws {
        let security = try await RegistrySecurity(configuration: configuration, logger: logger)
        let audit = try AuditTrail.open(configuration.berth.audit, logger: logger)
        let stores = try await RegistryStores.open(configuration, servesRequests: true)
        if stores.stagingIsLocal {
            try await StartupRecovery.run(blobs: stores.blobs, metadata: stores.metadata, logger: logger)
        }
        let storeService = notifying(RegistryService(stores: stores, rules: RegistryRules(configuration)))
        let healthSettings = configuration.health.storageDriver
        let health = HealthMonitor(
            check: { await storeService.checkStores() }, interval: healthSettings.interval,
            threshold: healthSettings.threshold, logger: logger)

        var prometheus: PrometheusCollectorRegistry?
        var metrics: RequestMetrics?
        if configuration.http.debug?.prometheusEnabled == true {
            prometheus = PrometheusSetup.bootstrap()
            metrics = RequestMetrics()
        }
        let mirror = try pullThroughCache(for: storeService)
        let service = mirror.map { storeService.mirroring($0) } ?? storeService
        let limits = configuration.berth.limits
        // One failure count for the API's Basic and bearer credentials and the UI's sign-in form.
        let authFailures = limits.authFailures > 0 ? AuthFailureLimiter(threshold: limits.authFailures) : nil
        let ui = try webUI(
            service: service, signIn: security.webUISignIn(failures: authFailures, logger: logger), health: health,
            stores: stores)
        let responder = RegistryRouter.build(
            api: RegistryAPI(
                service: service,
                locations: Locations(prefix: configuration.routePrefix, externalURL: configuration.http.externalURL)),
            settings: .init(
                prefix: configuration.routePrefix, extraHeaders: extraHeaders(),
                accessLog: !configuration.log.accessLogDisabled, metrics: metrics, limiter: RequestLimiter(limits),
                authenticator: security.authenticator,
                authFailures: authFailures,
                health: health, healthGatesRequests: healthSettings.enabled, audit: audit?.queue, ui: ui,
                eventOrigin: eventOriginMiddleware))
        // After the metrics backend is bootstrapped: the limiter's counter is created with it.
        let guards = ConnectionGuards(
            connections: limits.connectionsPerClient > 0 ? ConnectionLimiter(maximum: limits.connectionsPerClient) : nil,
            minimumBodyRate: limits.minBodyRate, bodyRatePeriod: limits.minBodyRatePeriod)
        let app = Application(
            responder: responder,
            server: security.serverBuilder(idleTimeout: limits.idleTimeout, readTimeout: limits.readTimeout, guards: guards),
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port)),
            services: services(health: health, stores: stores)
                + [PullFlushingService(recorder: service.pulls, logger: logger) as any Service] + security.services(logger: logger)
                + (audit.map { [$0.service as any Service] } ?? []) + notificationServices(service),
            logger: logger)

        var listeners: [any Service] = []
        if let debug = configuration.http.debug {
            listeners.append(
                debugListener(debug, health: health, prometheus: prometheus, statistics: stores.metadata.statistics))
        }
        listeners.append(app)

        logStartup(auth: security.authenticationName, stores: stores)
        do {
            try await serve(listeners)
        } catch {
            await mirror?.shutdown()
            throw error
        }
        await PullFlushingService.flush(service.pulls, logger: logger)
        if let notifier = service.notifier { await PullEventFlushingService.flush(notifier, logger: logger) }
        await mirror?.shutdown()
        try await stores.close()
        logger.info("registry stopped")
    }

    /// `http.headers`, as header fields (invalid names are warned about and skipped), and
    /// `Strict-Transport-Security` when serving HTTPS.
    private func extraHeaders() -> [(HTTPField.Name, String)] {
        configuration.http.headers.flatMap { header -> [(HTTPField.Name, String)] in
            guard let name = HTTPField.Name(header.name) else {
                logger.warning("http.headers: \(header.name) is not a valid header name; ignored")
                return []
            }
            return header.values.map { (name, $0) }
        } + StrictTransportSecurityHeader.fields(configuration)
    }

    /// Background work: the periodic health check and the purging of abandoned uploads.
    private func services(health: HealthMonitor, stores: RegistryStores) -> [any Service] {
        var services: [any Service] = []
        if configuration.health.storageDriver.enabled { services.append(health) }
        let purging = configuration.storage.uploadPurging
        if purging.enabled, !configuration.storage.readOnly {
            services.append(
                UploadPurgingService(
                    purger: UploadPurger(blobs: stores.blobs, metadata: stores.metadata), settings: purging,
                    logger: logger))
        }
        if configuration.berth.retention.schedule != nil, !configuration.storage.readOnly {
            services.append(
                RetentionService(
                    retention: TagRetention(metadata: stores.metadata, changes: stores.changes),
                    collector: GarbageCollector(blobs: stores.blobs, metadata: stores.metadata, changes: stores.changes),
                    configuration: configuration, logger: logger))
        }
        return services
    }

    private func logStartup(auth: String, stores: RegistryStores) {
        let http = configuration.http
        logger.info(
            "berth registryd \(Self.version) listening on \(http.host):\(http.port)",
            metadata: [
                "tls": "\(http.tls == nil ? "off" : http.tls?.clientCAs.isEmpty == false ? "mutual" : "on")",
                "auth": "\(auth)", "storage": "\(configuration.storage.rootDirectory)",
                "database": "\(configuration.database.enabled ? configuration.database.description : configuration.databasePath)",
                "delete": "\(configuration.storage.deleteEnabled)",
                "debug": "\(http.debug.map { "\($0.host):\($0.port)" } ?? "off")",
                "prefix": "\(http.prefix)",
                "audit": "\(configuration.berth.audit?.path ?? "off")",
            ])
        if !configuration.listensOnLoopbackOnly, http.tls == nil, auth == "none" {
            logger.warning(
                """
                !!! SERVING PLAIN HTTP WITHOUT AUTHENTICATION ON \(http.host):\(http.port) !!! \
                Anyone who can reach this address can push, pull and delete images. \
                Set http.addr to 127.0.0.1:\(http.port), or configure http.tls and auth.
                """)
        }
    }
}
