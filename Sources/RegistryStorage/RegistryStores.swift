import Foundation
import RegistryCore

/// The stores a configuration names, opened once by whoever needs them: registryd and every
/// registryctl command build them here, so that the choice of implementation (and where the
/// database lives) is made in one place.
public struct RegistryStores: Sendable {
    public let blobs: any BlobStore
    public let metadata: any MaintainableMetadataStore
    /// How a change made by one process (gc, fsck) reaches the caches of the others.
    public let changes: any ChangeNotifier
    /// `registryctl backup`, where the stores support it (the embedded ones).
    public let backup: RegistryBackup?
    /// True when staged uploads belong to this server alone, so that startup may discard
    /// staging that has no session (see ``StartupRecovery``).
    public let stagingIsLocal: Bool
    /// Where the stores live, for log lines (never a secret).
    public let description: String
    /// Whether a server may put ``CachedMetadataStore`` in front of ``metadata``. False when
    /// other servers write the same metadata (PostgreSQL): a per-node cache that only an
    /// asynchronous notification invalidates would serve a moved tag stale for a moment
    /// after another node answered 201, which read-your-writes across nodes forbids. (The
    /// PostgreSQL store's own tag list cache waits for every node's acknowledgement instead.)
    public let cachesMetadata: Bool
    private let closing: @Sendable () async throws -> Void

    public init(
        blobs: any BlobStore, metadata: any MaintainableMetadataStore, changes: any ChangeNotifier,
        backup: RegistryBackup?, stagingIsLocal: Bool, description: String, cachesMetadata: Bool = true,
        close: @escaping @Sendable () async throws -> Void
    ) {
        self.blobs = blobs
        self.metadata = metadata
        self.changes = changes
        self.backup = backup
        self.stagingIsLocal = stagingIsLocal
        self.description = description
        self.cachesMetadata = cachesMetadata
        self.closing = close
    }

    /// Opens the stores of `configuration`: blobs on the filesystem, or in the S3 bucket of
    /// `storage.s3`; metadata in SQLite in the storage root, or in PostgreSQL when
    /// `database.enabled` (see ``openPostgres(_:servesRequests:)``). `servesRequests` is true
    /// in registryd, false in registryctl.
    public static func open(_ configuration: RegistryConfiguration, servesRequests: Bool = false) async throws
        -> RegistryStores
    {
        let root = configuration.storage.rootDirectory
        if configuration.database.enabled { return try await openPostgres(configuration, servesRequests: servesRequests) }
        if let settings = configuration.storage.s3 { return try await openS3(settings, configuration: configuration) }
        let blobs = try FilesystemBlobStore(root: root)
        let metadata = try SQLiteMetadataStore(path: configuration.databasePath)
        return RegistryStores(
            blobs: blobs, metadata: metadata, changes: FileChangeNotifier(root: root),
            backup: RegistryBackup(blobs: blobs, metadata: metadata), stagingIsLocal: true,
            description: "filesystem \(root), sqlite \(configuration.databasePath)",
            close: { try metadata.close() })
    }

    /// Blobs in the bucket; the SQLite database in the storage root (the only thing there).
    private static func openS3(
        _ settings: RegistryConfiguration.S3, configuration: RegistryConfiguration
    ) async throws -> RegistryStores {
        let root = configuration.storage.rootDirectory
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let blobs = try await S3BlobStore(
            settings: settings, redirectsDisabled: configuration.storage.redirectDisabled,
            spoolDirectory: S3BlobStore.spoolDirectory(for: configuration))
        let metadata = try SQLiteMetadataStore(path: configuration.databasePath)
        // One SQLite database means one server: its staged uploads are its own.
        return RegistryStores(
            blobs: blobs, metadata: metadata, changes: FileChangeNotifier(root: root), backup: nil,
            stagingIsLocal: true,
            description: "s3 bucket \(settings.bucket) at \(settings.endpoint), sqlite \(configuration.databasePath)",
            close: { try metadata.close() })
    }

    /// Closes the database cleanly (a checkpoint of SQLite's WAL).
    public func close() async throws {
        try await closing()
    }
}
