import AsyncHTTPClient
import Foundation
import Logging
import RegistryCore
import RegistryService
import RegistryStorage
import Synchronization

/// The pull-through cache: serves mirrored repositories from the stores, and fetches from
/// the upstream what they lack. What it fetches is stored as a push would store it (blobs
/// verified by digest and made durable through ``BlobUploads``, manifests validated), so
/// garbage collection, fsck, backups and the web UI see ordinary content.
///
/// Tags are the only mutable thing: a cached tag is served without asking the upstream for
/// the mirror's `ttl`, then re-checked with a HEAD request (the body is fetched only when the
/// digest changed). When the upstream is down, cached content is served whatever its age,
/// with a warning in the log; content never seen answers 503 naming the upstream.
public final class PullThroughCache: PullThroughSource {
    let table: MirrorTable
    let clients: [UpstreamClient]
    let metadata: any MetadataStore
    let blobs: any BlobStore
    let uploads: BlobUploads
    let manifestSizeLimit: Int
    let spoolDirectory: String
    let fetches = BlobFetches()
    let metrics: [MirrorMetrics]
    let logger: Logger
    /// When each cached tag was last confirmed with its upstream (on this server).
    private let confirmed = Mutex<[String: ContinuousClock.Instant]>([:])

    /// - Parameters:
    ///   - spoolDirectory: a folder on this server's disk for blobs being downloaded; emptied
    ///     here, since a spool left by a crash belongs to no download.
    public init(
        mirrors: [RegistryConfiguration.Mirror], metadata: any MetadataStore, blobs: any BlobStore,
        manifestSizeLimit: Int, spoolDirectory: String, logger: Logger
    ) throws {
        table = MirrorTable(mirrors)
        clients = try mirrors.map { mirror in
            UpstreamClient(mirror: mirror, http: try UpstreamClient.makeHTTPClient(for: mirror), logger: logger)
        }
        metrics = mirrors.map { MirrorMetrics(upstream: $0.label) }
        self.metadata = metadata
        self.blobs = blobs
        uploads = BlobUploads(blobs: blobs, metadata: metadata)
        self.manifestSizeLimit = manifestSizeLimit
        self.spoolDirectory = spoolDirectory
        self.logger = logger
        try? FileManager.default.removeItem(atPath: spoolDirectory)
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
    }

    /// Closes the upstream connections (at shutdown, after the last request).
    public func shutdown() async {
        for client in clients { try? await client.http.shutdown() }
    }

    // MARK: PullThroughSource

    public func isMirrored(_ repository: RepositoryName) -> Bool {
        table.route(repository) != nil
    }

    public func upstream(of repository: RepositoryName) -> String? {
        table.route(repository).map { table.mirrors[$0.mirror].remoteURL }
    }

    public func defaultCacheName(of repository: RepositoryName) -> RepositoryName? {
        table.defaultRoute(repository)?.localName
    }

    public func route(for repository: RepositoryName) async throws -> MirrorTable.Route? {
        if let route = table.route(repository) { return route }
        guard let route = table.defaultRoute(repository) else { return nil }
        // A private repository of that name is served as it is.
        if try await metadata.tags(in: repository, after: nil, limit: 1) != nil { return nil }
        return route
    }

    // MARK: Tag freshness

    func isFresh(_ tag: Tag, route: MirrorTable.Route) -> Bool {
        let ttl = table.mirrors[route.mirror].tagTTL
        guard ttl > .zero else { return false }
        let key = "\(route.localName.value):\(tag.value)"
        return confirmed.withLock { $0[key].map { ContinuousClock.now - $0 < ttl } ?? false }
    }

    func confirm(_ tag: Tag, route: MirrorTable.Route) {
        let key = "\(route.localName.value):\(tag.value)"
        confirmed.withLock { $0[key] = .now }
    }
}
