import RegistryCore
import RegistryStorage

/// Where content that a mirrored repository lacks comes from: the pull-through cache of
/// `proxy:` and `berth.mirrors` (module RegistryMirror). The service asks it only for
/// repositories it mirrors; everything it fetches lands in the same stores as a push would,
/// so that gc, fsck, backup and the UI see ordinary content.
public protocol PullThroughSource: Sendable {
    /// True for a name under a mirror's prefix (or any name in proxy mode): pushes and
    /// deletes there are refused, since the upstream owns the content.
    func isMirrored(_ repository: RepositoryName) -> Bool

    /// The upstream URL a mirrored repository (by its prefix) comes from, for the web UI's
    /// "mirror" mark; nil for a private name. No I/O.
    func upstream(of repository: RepositoryName) -> String?

    /// Where the default mirror caches an unprefixed name (`library/alpine` is cached as
    /// `docker.io/library/alpine`), so that a pull's time is recorded where the content is.
    /// Nil without a default mirror or for a prefixed name. No I/O.
    func defaultCacheName(of repository: RepositoryName) -> RepositoryName?

    /// The upstream route for a pull from `repository`, if any: its own mirror's, or the
    /// default mirror's for a name under no prefix that no private repository holds.
    func route(for repository: RepositoryName) async throws -> MirrorTable.Route?

    /// A manifest from the cache, refreshed from the upstream as the mirror's rules say.
    func manifest(_ reference: Reference, route: MirrorTable.Route) async throws -> StoredManifest

    /// The size of a blob the route's repository may serve, fetching nothing yet: from the
    /// store (linking it into the repository when another has it) or from the upstream.
    func blobSize(_ digest: Digest, route: MirrorTable.Route) async throws -> Int64

    /// Opens a blob range, from the store when it is there, else from the download that
    /// brings it from the upstream (one download however many clients ask at once).
    func openBlob(_ digest: Digest, range: Range<Int64>, route: MirrorTable.Route) async throws -> any BlobReader
}

extension RegistryService {
    /// The same service with a pull-through cache in front of the mirrored repositories.
    public func mirroring(_ source: any PullThroughSource) -> RegistryService {
        var copy = self
        copy.pullThrough = source
        return copy
    }

    /// The upstream URL of a mirrored repository, nil for a private one (the web UI marks them).
    public func mirrorUpstream(of name: String) -> String? {
        guard let pullThrough, let repository = try? RepositoryName(name) else { return nil }
        return pullThrough.upstream(of: repository)
    }

    /// Refuses writes to a mirrored repository, as Distribution's proxy mode does (405).
    func requirePrivate(_ repository: RepositoryName) throws(RegistryError) {
        if let pullThrough, pullThrough.isMirrored(repository) {
            throw RegistryError(
                .unsupported, "this repository is a mirror of an upstream registry; pushes and deletes are refused",
                detail: repository.value)
        }
    }
}
