import HTTPTypes
import Hummingbird
import Logging
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

    /// Opens storage, recovers from an unclean stop, serves until SIGTERM or SIGINT, then
    /// closes the database cleanly.
    public func run() async throws {
        try refuseUnsupportedSettings()
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
        let responder = RegistryResponder(
            api: api, health: health, healthGatesRequests: healthSettings.enabled,
            extraHeaders: configuration.http.headers.flatMap { header -> [(HTTPField.Name, String)] in
                guard let name = HTTPField.Name(header.name) else {
                    logger.warning("http.headers: \(header.name) is not a valid header name; ignored")
                    return []
                }
                return header.values.map { (name, $0) }
            },
            accessLog: !configuration.log.accessLogDisabled,
            limiter: RequestLimiter(configuration.berth.limits))
        let app = Application<RegistryResponder>(
            responder: responder,
            server: .registryHTTP1(
                idleTimeout: configuration.berth.limits.idleTimeout, readTimeout: configuration.berth.limits.readTimeout),
            configuration: .init(address: .hostname(configuration.http.host, port: configuration.http.port)),
            services: services(health: health, blobs: blobs, metadata: metadata),
            logger: logger)

        logStartup()
        try await app.runService()
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

    private func logStartup() {
        let http = configuration.http
        let auth = configuration.auth.htpasswd != nil ? "htpasswd" : "none"
        logger.info(
            "berth registryd \(Self.version) listening on \(http.host):\(http.port)",
            metadata: [
                "tls": "off", "auth": "\(auth)", "storage": "\(configuration.storage.rootDirectory)",
                "database": "\(configuration.databasePath)",
                "delete": "\(configuration.storage.deleteEnabled)",
            ])
        if !configuration.listensOnLoopbackOnly, http.tls == nil, configuration.auth.htpasswd == nil {
            logger.warning(
                """
                !!! SERVING PLAIN HTTP WITHOUT AUTHENTICATION ON \(http.host):\(http.port) !!! \
                Anyone who can reach this address can push, pull and delete images. \
                Set http.addr to 127.0.0.1:\(http.port), or configure http.tls and auth.
                """)
        }
    }

    /// Settings this build cannot honour yet: refusing them beats serving less securely
    /// than the file asks.
    private func refuseUnsupportedSettings() throws {
        if configuration.http.tls != nil {
            throw UnsupportedSetting(key: "http.tls", message: "TLS is not available in this build yet")
        }
        if configuration.auth.htpasswd != nil {
            throw UnsupportedSetting(key: "auth.htpasswd", message: "authentication is not available in this build yet")
        }
    }
}

/// A configured feature this build does not provide.
public struct UnsupportedSetting: Error, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "\(key): \(message)" }
}
