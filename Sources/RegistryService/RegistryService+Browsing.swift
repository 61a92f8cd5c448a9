import NIOCore
import RegistryCore
import RegistryStorage

/// A tag and the manifest it names, for the web UI's tag list.
public struct TagDetail: Sendable, Equatable {
    public var tag: String
    public var manifest: StoredManifest

    public init(tag: String, manifest: StoredManifest) {
        self.tag = tag
        self.manifest = manifest
    }
}

/// One page of repositories whose name contains a filter, and where the next page starts.
public struct RepositorySearchPage: Sendable, Equatable {
    public var names: [String]
    /// The `last` of the next page; nil on the last page.
    public var next: String?
}

/// Reads the web UI needs beyond the API's: the same stores, the same rules, no second path
/// to the database.
extension RegistryService {
    /// Repositories whose name contains `filter` (all when empty) and that `visible` admits,
    /// in byte order after `page.last`, at most `page.size` (capped). Reads the store in
    /// batches, so that a filter over many repositories costs a few index scans rather than
    /// one query per repository.
    public func searchRepositories(
        containing filter: String, page: PageRequest, visible: @Sendable (String) -> Bool
    ) async throws -> RepositorySearchPage {
        let size = max(1, min(page.size ?? 50, rules.maximumPageSize))
        let needle = filter.lowercased()
        var found: [String] = []
        var cursor = page.last
        let batch = 1000
        while true {
            let names = try await metadata.repositories(after: cursor, limit: batch)
            for name in names where (needle.isEmpty || name.contains(needle)) && visible(name) {
                if found.count == size { return RepositorySearchPage(names: found, next: found.last) }
                found.append(name)
            }
            guard names.count == batch, let last = names.last else { break }
            cursor = last
        }
        return RepositorySearchPage(names: found, next: nil)
    }

    /// How many tags a repository has (0 for one never pushed to).
    public func tagCount(in repository: RepositoryName) async throws -> Int {
        try await metadata.tags(in: repository, after: nil, limit: nil)?.count ?? 0
    }

    /// A page of tags with the manifests they name; `NAME_UNKNOWN` for a repository never
    /// pushed to. A tag deleted between the two reads is left out.
    public func tagDetails(in repository: RepositoryName, page: PageRequest) async throws
        -> (tags: [TagDetail], next: String?)
    {
        let listing = try await tags(in: repository, page: page)
        var details: [TagDetail] = []
        for tag in listing.items {
            guard let parsed = try? Tag(tag), let manifest = try await metadata.manifest(.tag(parsed), in: repository)
            else { continue }
            details.append(TagDetail(tag: tag, manifest: manifest))
        }
        return (details, listing.next)
    }

    /// A small blob's bytes (an image config) if the repository may see it and it is at most
    /// `limit` bytes; nil otherwise.
    public func smallBlob(_ digest: Digest, in repository: RepositoryName, limit: Int64) async throws -> [UInt8]? {
        guard let size = try await metadata.blobSize(digest, in: repository), size <= limit else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(size))
        try await blobs.read(digest, range: 0..<size) { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
        return bytes
    }
}
