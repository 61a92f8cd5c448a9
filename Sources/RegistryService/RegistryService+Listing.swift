import RegistryCore
import RegistryStorage

/// `n` and `last` of a paginated listing.
public struct PageRequest: Sendable, Equatable {
    /// Nil: everything after `last`.
    public var size: Int?
    public var last: String?

    public init(size: Int? = nil, last: String? = nil) {
        self.size = size
        self.last = last
    }
}

/// One page of names, and the last name of the page when another page follows.
public struct ListingPage: Sendable, Equatable {
    public var items: [String]
    public var next: String?
    /// The page size in effect (the request's `n`, capped).
    public var size: Int?
}

extension RegistryService {
    /// Tags of a repository in byte order; `NAME_UNKNOWN` for a repository never pushed to.
    public func tags(in repository: RepositoryName, page: PageRequest) async throws -> ListingPage {
        let size = page.size.map { min($0, rules.maximumPageSize) }
        guard let tags = try await metadata.tags(in: repository, after: page.last, limit: size.map { $0 + 1 }) else {
            throw RegistryError(.nameUnknown, "repository name not known to registry", detail: repository.value)
        }
        return Self.split(tags, size: size)
    }

    /// Repository names in byte order.
    public func catalog(page: PageRequest) async throws -> ListingPage {
        let size = page.size.map { min($0, rules.maximumPageSize) }
        let names = try await metadata.repositories(after: page.last, limit: size.map { $0 + 1 })
        return Self.split(names, size: size)
    }

    /// A page of at most `size` from rows fetched with one extra, which tells whether another follows.
    private static func split(_ rows: [String], size: Int?) -> ListingPage {
        guard let size, rows.count > size else { return ListingPage(items: rows, next: nil, size: size) }
        let items = Array(rows.prefix(size))
        return ListingPage(items: items, next: items.last, size: size)
    }
}
