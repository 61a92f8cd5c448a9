import RegistryCore

/// The switches that decide what the registry allows, from `config.yml`.
public struct RegistryRules: Sendable, Equatable {
    /// `storage.delete.enabled`.
    public var deleteEnabled = false
    /// `storage.maintenance.readonly.enabled`: every write is refused.
    public var readOnly = false
    /// `berth.mount.anywhere`: a mount without `from` links a blob any repository has.
    public var mountAnywhere = false
    /// `berth.manifests.allownondistributable`: layers with `urls` need not be pushed.
    public var allowNonDistributable = false
    /// `berth.limits.manifestsize`.
    public var manifestSizeLimit = Manifest.maximumSize
    /// The largest page a listing returns, whatever `n` asks for.
    public var maximumPageSize = 10_000

    public init() {}

    public init(_ configuration: RegistryConfiguration) {
        deleteEnabled = configuration.storage.deleteEnabled
        readOnly = configuration.storage.readOnly
        mountAnywhere = configuration.berth.mountAnywhere
        allowNonDistributable = configuration.berth.allowNonDistributable
        manifestSizeLimit = configuration.berth.limits.manifestSize
    }

    func requireWritable() throws(RegistryError) {
        if readOnly {
            throw RegistryError(.unsupported, "the registry is in read-only mode; writes are refused")
        }
    }

    func requireDelete() throws(RegistryError) {
        guard deleteEnabled else {
            throw RegistryError(.unsupported, "deletion is disabled (storage.delete.enabled is false)")
        }
    }
}
