import RegistryStorage

/// The result of checking both stores once.
public struct StoreHealth: Sendable, Equatable {
    /// Nil when fine, else what is wrong (no paths or system detail).
    public var storage: String?
    public var database: String?

    public init(storage: String? = nil, database: String? = nil) {
        self.storage = storage
        self.database = database
    }

    public var isHealthy: Bool { storage == nil && database == nil }
}

extension RegistryService {
    /// Checks that the blob store takes writes and the metadata store answers.
    public func checkStores() async -> StoreHealth {
        var health = StoreHealth()
        do { try await blobs.checkWritable() } catch { health.storage = "storage is not writable" }
        do { try await metadata.ping() } catch { health.database = "database does not answer" }
        return health
    }
}
