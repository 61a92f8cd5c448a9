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
    public let metadata: any ServingMetadataStore
    public let rules: RegistryRules
    /// Manifest pulls noted by the API, written in batches (see ``PullRecorder``). Whoever
    /// runs the service flushes it periodically and at shutdown.
    public let pulls: PullRecorder
    let uploads: BlobUploads
    /// Whether the blob store may answer reads with a redirect (asked once).
    let redirectsReads: Bool
    /// The pull-through cache of mirrored repositories, when `proxy:` or `berth.mirrors` is set.
    public internal(set) var pullThrough: (any PullThroughSource)?
    /// Makes the events of `notifications.endpoints`, when any is configured (see ``notifying(source:recordsPulls:)``).
    public internal(set) var notifier: EventNotifier?

    public init(blobs: any BlobStore, metadata: any ServingMetadataStore, rules: RegistryRules) {
        self.blobs = blobs
        self.metadata = metadata
        self.rules = rules
        pulls = PullRecorder(store: metadata)
        uploads = BlobUploads(blobs: blobs, metadata: metadata)
        redirectsReads = blobs.offersRedirects
    }

    /// The service over opened stores, with the read cache in front of their metadata when
    /// the stores allow one (not when several servers share the metadata: see
    /// ``RegistryStores/cachesMetadata``).
    public init(stores: RegistryStores, rules: RegistryRules) {
        let metadata: any ServingMetadataStore =
            stores.cachesMetadata ? CachedMetadataStore(stores.metadata, changes: stores.changes) : stores.metadata
        self.init(blobs: stores.blobs, metadata: metadata, rules: rules)
    }
}
