import NIOCore
import RegistryCore
import RegistryStorage

/// One page of a sorted listing, and where the next page starts.
public struct SortedPage<Item: Sendable & Equatable>: Sendable, Equatable {
    public var items: [Item]
    /// The cursor of the next page; nil on the last page.
    public var next: ListingCursor?
}

/// Reads the web UI needs beyond the API's: the same stores, the same rules, no second path
/// to the database.
extension RegistryService {
    /// Repositories whose name contains `filter` (all when empty) and that `visible` admits,
    /// in `order` after `cursor`, at most `size` (capped at the API's page size). The store
    /// answers a page with one index walk; when the access rules hide repositories, further
    /// batches are read until the page is full, never one query per repository.
    public func repositorySummaries(
        containing filter: String, order: RepositoryOrder, after cursor: ListingCursor?, size: Int?,
        visible: @Sendable (String) -> Bool
    ) async throws -> SortedPage<RepositorySummary> {
        let size = max(1, min(size ?? 50, rules.maximumPageSize))
        var found: [RepositorySummary] = []
        var position = cursor
        // One more than a page first: enough to know whether a next page exists when every
        // repository is visible (the usual case); larger batches once some are hidden.
        var batch = size + 1
        while true {
            let rows = try await metadata.repositorySummaries(matching: filter, order: order, after: position, limit: batch)
            for row in rows where visible(row.name) {
                if found.count == size {
                    return SortedPage(items: found, next: found.last.map { ListingCursor(after: $0) })
                }
                found.append(row)
            }
            guard rows.count == batch, let last = rows.last else { break }
            position = ListingCursor(after: last)
            batch = 1000
        }
        return SortedPage(items: found, next: nil)
    }

    /// A repository's summary; `NAME_UNKNOWN` for one the registry does not know.
    public func repositorySummary(_ repository: RepositoryName) async throws -> RepositorySummary {
        guard let summary = try await metadata.repositorySummary(repository) else {
            throw RegistryError(.nameUnknown, "repository name not known to registry", detail: repository.value)
        }
        return summary
    }

    /// A page of a repository's tags whose name contains `filter`, in `order` after `cursor`,
    /// each with its manifest and push and pull times; `NAME_UNKNOWN` for a repository the
    /// registry does not know.
    public func tagSummaries(
        in repository: RepositoryName, containing filter: String, order: TagOrder, after cursor: ListingCursor?,
        size: Int?
    ) async throws -> SortedPage<TagSummary> {
        let size = max(1, min(size ?? 50, rules.maximumPageSize))
        guard
            var tags = try await metadata.tagSummaries(
                in: repository, matching: filter, order: order, after: cursor, limit: size + 1)
        else {
            throw RegistryError(.nameUnknown, "repository name not known to registry", detail: repository.value)
        }
        guard tags.count > size else { return SortedPage(items: tags, next: nil) }
        tags.removeLast(tags.count - size)
        return SortedPage(items: tags, next: tags.last.map { ListingCursor(after: $0) })
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
