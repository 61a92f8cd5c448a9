import Foundation
import RegistryCore

/// Everything one repository holds, as its metadata records it: what a copy of the repository
/// into other stores (`registryctl migrate`) has to bring over.
public struct RepositoryContents: Sendable, Equatable {
    /// A blob linked into the repository (pushed or mounted there) and its recorded size.
    public struct LinkedBlob: Sendable, Equatable {
        public var digest: Digest
        public var size: Int64

        public init(digest: Digest, size: Int64) {
            self.digest = digest
            self.size = size
        }
    }

    /// A tag, the manifest it names, and when a push last set it.
    public struct TagLink: Sendable, Equatable {
        public var name: String
        public var digest: Digest
        /// ``TagSummary/pushedAt``: a copy sets tags oldest first, so that "newest first"
        /// (the web UI, tag retention) keeps its order.
        public var pushedAt: Date

        public init(name: String, digest: Digest, pushedAt: Date) {
            self.name = name
            self.digest = digest
            self.pushedAt = pushedAt
        }
    }

    /// Linked blobs, in digest order.
    public var blobs: [LinkedBlob]
    /// Every manifest of the repository (tagged or not: index children, referrers), oldest
    /// first. Digests only: the bytes are read one manifest at a time with
    /// ``MetadataStore/manifest(_:in:)``.
    public var manifests: [Digest]
    /// Tags in byte order.
    public var tags: [TagLink]

    public init(blobs: [LinkedBlob], manifests: [Digest], tags: [TagLink]) {
        self.blobs = blobs
        self.manifests = manifests
        self.tags = tags
    }
}

/// A metadata store that can list all of a repository's content in one read, for copying a
/// registry into other stores. The API's calls cannot: they find manifests only by tag, by
/// digest or as referrers, and no blob link without its digest.
public protocol EnumerableMetadataStore: Sendable {
    /// The repository's content read in one transaction; nil when the registry does not
    /// know the repository.
    func contents(of repository: RepositoryName) async throws -> RepositoryContents?
}
