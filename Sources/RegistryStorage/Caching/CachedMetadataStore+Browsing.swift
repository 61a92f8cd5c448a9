import RegistryCore

/// Browsing reads are passed through uncached: they are page-sized, served by one index
/// walk, and must show a push at once. Recorded pulls change nothing this cache holds.
extension CachedMetadataStore: BrowsingMetadataStore {
    public func repositorySummaries(
        matching filter: String, order: RepositoryOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [RepositorySummary] {
        try await base.repositorySummaries(matching: filter, order: order, after: cursor, limit: limit)
    }

    public func repositorySummary(_ repository: RepositoryName) async throws -> RepositorySummary? {
        try await base.repositorySummary(repository)
    }

    public func tagSummaries(
        in repository: RepositoryName, matching filter: String, order: TagOrder, after cursor: ListingCursor?, limit: Int
    ) async throws -> [TagSummary]? {
        try await base.tagSummaries(in: repository, matching: filter, order: order, after: cursor, limit: limit)
    }

    public func recordPulls(_ pulls: [PullRecord]) async throws {
        try await base.recordPulls(pulls)
    }
}
