import RegistryCore
import RegistryStorage

/// The registry's rules over its stores: what a push, a pull, a mount, a delete, a listing
/// and a referrers query do and refuse. The HTTP API, the web UI and the mirror all go
/// through it, so a rule holds whichever door a request comes in by.
///
/// Errors are ``RegistryError``s (OCI codes, no HTTP status) and the stores' own
/// ``StorageFailure``s; the front door decides how to answer them.
public struct RegistryService: Sendable {
    public let blobs: any BlobStore
    /// Usually a ``CachedMetadataStore`` in front of the configured store.
    public let metadata: any MetadataStore
    public let rules: RegistryRules
    let uploads: BlobUploads
    /// Whether the blob store may answer reads with a redirect (asked once).
    let redirectsReads: Bool

    public init(blobs: any BlobStore, metadata: any MetadataStore, rules: RegistryRules) {
        self.blobs = blobs
        self.metadata = metadata
        self.rules = rules
        uploads = BlobUploads(blobs: blobs, metadata: metadata)
        redirectsReads = blobs.offersRedirects
    }

    /// The service over opened stores, with the read cache in front of their metadata when
    /// the stores allow one (not when several servers share the metadata: see
    /// ``RegistryStores/cachesMetadata``).
    public init(stores: RegistryStores, rules: RegistryRules) {
        let metadata: any MetadataStore =
            stores.cachesMetadata ? CachedMetadataStore(stores.metadata, changes: stores.changes) : stores.metadata
        self.init(blobs: stores.blobs, metadata: metadata, rules: rules)
    }
}
