import Foundation
import RegistryCore

/// What the web UI lists about a repository, and what a listing sorts by.
public struct RepositorySummary: Sendable, Equatable {
    public var name: String
    public var tagCount: Int
    /// The sum of the sizes of the blobs linked into the repository (pushed or mounted there:
    /// layers, configs, artifact blobs), each counted once, whether or not a manifest still
    /// references it; manifest bodies are not counted. A linked blob stays linked, and
    /// counted, until `registryctl gc` unlinks it, so deleting a tag changes this only after
    /// the next gc. Linked rather than referenced blobs because the link table says it exactly
    /// and cheaply: a blob is linked into a repository at most once.
    public var size: Int64
    /// When a manifest was last pushed into the repository (with or without a tag); deletes
    /// do not change it. Nil when no manifest was ever pushed.
    public var pushedAt: Date?
    /// The latest pull recorded by ``BrowsingMetadataStore/recordPulls(_:)`` for a tag or a
    /// manifest of the repository; nil when none was.
    public var pulledAt: Date?

    public init(name: String, tagCount: Int, size: Int64, pushedAt: Date?, pulledAt: Date?) {
        self.name = name
        self.tagCount = tagCount
        self.size = size
        self.pushedAt = pushedAt
        self.pulledAt = pulledAt
    }
}

/// A tag, the manifest it names, and when it was pushed and pulled.
public struct TagSummary: Sendable, Equatable {
    public var name: String
    public var manifest: StoredManifest
    /// When a push last set the tag (moving it or not).
    public var pushedAt: Date
    /// The latest recorded pull by this tag; nil when none was.
    public var pulledAt: Date?
    /// The latest recorded pull of the tag's manifest by its digest; nil when none was.
    public var manifestPulledAt: Date?

    public init(name: String, manifest: StoredManifest, pushedAt: Date, pulledAt: Date?, manifestPulledAt: Date?) {
        self.name = name
        self.manifest = manifest
        self.pushedAt = pushedAt
        self.pulledAt = pulledAt
        self.manifestPulledAt = manifestPulledAt
    }
}

/// How a repository listing is sorted. Ties are broken by name, in byte order.
public enum RepositoryOrder: String, Sendable, CaseIterable {
    /// By name, in byte order.
    case name
    /// Most recent ``RepositorySummary/pushedAt`` first; never pushed last.
    case pushed
    /// Largest ``RepositorySummary/size`` first.
    case size
}

/// How a tag listing is sorted. Ties are broken by name, in byte order.
public enum TagOrder: String, Sendable, CaseIterable {
    /// Most recent ``TagSummary/pushedAt`` first.
    case newest
    /// By name, in byte order.
    case name
}

/// Where the next page of a sorted listing starts: after the row with this name and sort key.
///
/// Carries the key itself rather than only a name, so that a page still starts in the right
/// place when the row it continues from was deleted or pushed again meanwhile.
public struct ListingCursor: Sendable, Hashable {
    public var name: String
    /// The last row's time key in seconds since 1970 (``RepositoryOrder/pushed``, with 0 for
    /// never pushed; ``TagOrder/newest``); unused by other orders.
    public var time: Double
    /// The last row's ``RepositorySummary/size`` for ``RepositoryOrder/size``; unused otherwise.
    public var size: Int64

    public init(name: String, time: Double = 0, size: Int64 = 0) {
        self.name = name
        self.time = time
        self.size = size
    }

    /// The cursor that continues after `summary`.
    public init(after summary: RepositorySummary) {
        self.init(name: summary.name, time: summary.pushedAt?.timeIntervalSince1970 ?? 0, size: summary.size)
    }

    /// The cursor that continues after `tag`.
    public init(after tag: TagSummary) {
        self.init(name: tag.name, time: tag.pushedAt.timeIntervalSince1970)
    }
}

/// A manifest pull, by tag or by digest, to be recorded.
public struct PullRecord: Sendable, Hashable {
    public var repository: RepositoryName
    public var reference: Reference
    public var time: Date

    public init(repository: RepositoryName, reference: Reference, time: Date) {
        self.repository = repository
        self.reference = reference
        self.time = time
    }
}

/// The metadata reads and writes for browsing: summaries of repositories and tags that a page
/// lists, filters and sorts without one query per row, and the last-pull times of tags and
/// manifests (for the web UI, and later for tag retention).
///
/// Listings use keyset pagination: a page is the first `limit` rows after a cursor in the
/// listing's order, so a late page costs what the first does. A name filter matches names
/// that contain it, ignoring ASCII case (names are ASCII); an empty filter matches all.
/// Every implementation passes `Tests/StoreContractTests/BrowsingStoreContractTests.swift`.
public protocol BrowsingMetadataStore: Sendable {
    /// Repositories whose name contains `filter`, in `order`, after `cursor` (from the start
    /// when nil), at most `limit`.
    func repositorySummaries(matching filter: String, order: RepositoryOrder, after cursor: ListingCursor?, limit: Int)
        async throws -> [RepositorySummary]

    /// One repository's summary; nil when the registry does not know the repository.
    func repositorySummary(_ repository: RepositoryName) async throws -> RepositorySummary?

    /// Tags of `repository` whose name contains `filter`, in `order`, after `cursor`, at most
    /// `limit`, each with its manifest; nil when the registry does not know the repository.
    func tagSummaries(
        in repository: RepositoryName, matching filter: String, order: TagOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [TagSummary]?

    /// Records pulls in one transaction: by tag, the tag's last-pull time; by digest, the
    /// manifest's; both also the repository's. A time earlier than the one recorded changes
    /// nothing; a tag or manifest that does not exist (any more) is skipped. The write need
    /// not be durable at once (pull times are hints; SQLite commits it without an fsync).
    func recordPulls(_ pulls: [PullRecord]) async throws
}

/// The metadata operations ``RegistryService`` uses: the API's and the browsing ones.
public typealias ServingMetadataStore = MetadataStore & BrowsingMetadataStore
