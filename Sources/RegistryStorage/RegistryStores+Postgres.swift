import Foundation
import RegistryCore

extension RegistryStores {
    /// Metadata in PostgreSQL (`database:`), blobs on the filesystem under the storage root or
    /// in the S3 bucket of `storage.s3`, for several registryd processes at once.
    ///
    /// - Staging is shared (`stagingIsLocal: false`): an upload's next request may reach any
    ///   node, so no node may discard staging it does not know at start.
    /// - No backup (`registryctl backup` copies the embedded stores; PostgreSQL has its own).
    /// - No per-node cache of manifests or blob links (`cachesMetadata: false`): every such
    ///   read is a query, so once any node answered 201 every node serves the new row at once.
    ///   Tag lists alone are cached, under leases and acknowledged invalidations that give the
    ///   same guarantee (``PostgresCacheCoherence``), which also tells the nodes about gc and
    ///   fsck.
    /// - `servesRequests`: registryd, which holds a cache lease; registryctl does not.
    /// - Throws ``DatabaseStartupFailure`` when the database is unreachable or its schema is
    ///   not current (pending or unknown migrations).
    static func openPostgres(_ configuration: RegistryConfiguration, servesRequests: Bool) async throws -> RegistryStores {
        let settings = configuration.database
        let metadata = try await PostgresMetadataStore.open(settings, servesCachedReads: servesRequests)
        let blobs: any BlobStore
        let location: String
        do {
            if let s3 = configuration.storage.s3 {
                blobs = try await S3BlobStore(
                    settings: s3, redirectsDisabled: configuration.storage.redirectDisabled,
                    spoolDirectory: S3BlobStore.spoolDirectory(for: configuration))
                location = "s3 bucket \(s3.bucket) at \(s3.endpoint)"
            } else {
                blobs = try FilesystemBlobStore(root: configuration.storage.rootDirectory)
                location = "filesystem \(configuration.storage.rootDirectory)"
            }
        } catch {
            await metadata.close()
            throw error
        }
        guard let changes = metadata.coherence else {
            await metadata.close()
            throw DatabaseStartupFailure("the PostgreSQL store opened without its cache listener")
        }
        return RegistryStores(
            blobs: blobs, metadata: metadata, changes: changes, backup: nil, stagingIsLocal: false,
            description: "\(location), postgresql \(metadata.description)", cachesMetadata: false,
            close: { await metadata.close() })
    }
}
