import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// Builds and runs the registry from its configuration.
public struct RegistryServer {
    public static let version = "0.1.0"

    public let configuration: RegistryConfiguration
    public let logger: Logger

    public init(configuration: RegistryConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens storage, recovers from an unclean stop, serves until SIGTERM or SIGINT, drains
    /// requests in flight for up to `http.draintimeout`, then closes the database cleanly.
    public func run() async throws {
        let security = try await RegistrySecurity(configuration: configuration, logger: logger)
        let root = configuration.storage.rootDirectory
        let blobs = try FilesystemBlobStore(root: root)
        let metadata = try SQLiteMetadataStore(path: configuration.databasePath)
        try await StartupRecovery.run(blobs: blobs, metadata: metadata, logger: logger)

        let healthSettings = configuration.health.storageDriver
        let health = HealthMonitor(
            blobs: blobs, metadata: metadata, interval: healthSettings.interval,
            threshold: healthSettings.threshold, logger: logger)
        let api = RegistryAPI(
            blobs: blobs, metadata: CachedMetadataStore(metadata, externalChanges: ExternalChangeSignal(root: root)),
            deleteEnabled: configuration.storage.deleteEnabled,
            readOnly: configuration.storage.readOnly, berth: configuration.berth)
        var responder = RegistryResponder(
            api: api, health: health, healthGatesRequests: healthSettings.enabled,
            extraHeaders: configuration.http.headers.flatMap { header -> [(HTTPField.Name, String)] in
                guard let name = HTTPField.Name(header.name) else {
                    logger.warning("http.headers: \(header.name) is not a valid header name; ignored")
                    return []
                }
                return header.values.map { (name, $0) }
            },
            accessLog: !configuration.log.accessLogDisabled, gate: security.gate,
            limiter: RequestLimiter(configuration.berth.limits))
        var prometheus: PrometheusCollectorRegistry?
        if configuration.http.debug?.prometheusEnabled == true {
            prometheus = PrometheusSetup.bootstrap()
            responder.metrics = RequestMetrics()
        }
        let limits = configuration.berth.limits
        let app = Application<RegistryResponder>(
            responder: responder,
            server: security.serverBuilder(idleTimeout: limits.idleTimeout, readTimeout: limits.readTimeout),
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port)),
            services: services(health: health, blobs: blobs, metadata: metadata) + security.services(logger: logger),
            logger: logger)

        var listeners: [any Service] = []
        if let debug = configuration.http.debug {
            listeners.append(
                debugListener(debug, registry: responder, prometheus: prometheus, statistics: metadata.statistics))
        }
        listeners.append(app)

        logStartup(auth: security.authenticationName)
        try await serve(listeners)
        try metadata.close()
        logger.info("registry stopped")
    }

    /// Background work: the periodic health check and the purging of abandoned uploads.
    private func services(health: HealthMonitor, blobs: any BlobStore, metadata: SQLiteMetadataStore) -> [any Service] {
        var services: [any Service] = []
        if configuration.health.storageDriver.enabled { services.append(health) }
        let purging = configuration.storage.uploadPurging
        if purging.enabled, !configuration.storage.readOnly {
            services.append(
                UploadPurgingService(
                    purger: UploadPurger(blobs: blobs, metadata: metadata), settings: purging, logger: logger))
        }
        return services
    }

    private func logStartup(auth: String) {
        let http = configuration.http
        logger.info(
            "berth registryd \(Self.version) listening on \(http.host):\(http.port)",
            metadata: [
                "tls": "\(http.tls == nil ? "off" : http.tls?.clientCAs.isEmpty == false ? "mutual" : "on")",
                "auth": "\(auth)", "storage": "\(configuration.storage.rootDirectory)",
                "database": "\(configuration.databasePath)",
                "delete": "\(configuration.storage.deleteEnabled)",
                "debug": "\(http.debug.map { "\($0.host):\($0.port)" } ?? "off")",
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
