/// The statements behind a page of the repository list
/// (``SQLiteMetadataStore/repositorySummaries(matching:order:after:limit:)``).
///
/// Parameters, in every statement: `?1` the filter (lower case; for ``search(_:)`` an FTS5
/// phrase), `?2` the cursor's key and name (`?2` and `?3` in the orders by push time and size),
/// then the page's limit, then (``boundedWalk(_:)`` only) how many rows to walk.
///
/// Without a filter, or with a filter that most names contain, a page is one walk of the
/// order's index that stops after `limit` rows. A filter that few names contain would walk the
/// whole index for a page (10,000 names: about 1.5 ms of SQLite per page, a third of the
/// page's time), so the filter first walks at most ``scannedRows`` rows in order; if they do not
/// fill the page, the trigram index of the `search-1` migration finds the rows that contain
/// the filter, which are then sorted: cheap exactly when few names match (on 10,000 names
/// about 0.15 ms for ten matches, against 1.3 ms for a walk of every name).
enum RepositoryListingStatements {
    static let columns = "name, tag_count, blob_bytes, pushed_at, pulled_at"

    /// The columns of `repository r`.
    private static let prefixed = columns.split(separator: ", ").map { "r.\($0)" }.joined(separator: ", ")

    /// Rows a filtered page walks in order before it asks the trigram index.
    static let scannedRows = 1000

    /// A page by one walk of the order's index, testing every row against the filter.
    static func walk(_ order: RepositoryOrder) -> String {
        """
        SELECT \(columns) FROM repository WHERE (?1 = '' OR instr(name, ?1) > 0) AND \(after(order))
        ORDER BY \(ordering(order)) LIMIT ?\(limitParameter(order))
        """
    }

    /// A page from the first ``scannedRows`` rows of the order's index. The walk reads only
    /// the index (an id and a name per row) and looks up the rows whose name contains the
    /// filter; it stops as soon as the page is full. The page comes in the walk's order:
    /// SQLite runs the subquery as a co-routine and hands its rows on in its `ORDER BY` order
    /// (an outer `ORDER BY` would make it read all ``scannedRows`` rows before the first;
    /// `RepositorySearchTests` checks the pages against a full walk in every order).
    static func boundedWalk(_ order: RepositoryOrder) -> String {
        """
        SELECT \(prefixed) FROM (
            SELECT id, name FROM repository WHERE \(after(order))
            ORDER BY \(ordering(order)) LIMIT ?\(limitParameter(order) + 1)
        ) w CROSS JOIN repository r ON r.id = w.id
        WHERE instr(w.name, ?1) > 0 LIMIT ?\(limitParameter(order))
        """
    }

    /// A page from the names the trigram index says contain the filter (at least three
    /// characters, a trigram's length), sorted. `CROSS JOIN` keeps the full-text table the
    /// outer loop whatever the planner's statistics say.
    static func search(_ order: RepositoryOrder) -> String {
        """
        SELECT \(prefixed) FROM repository_search CROSS JOIN repository r ON r.id = repository_search.rowid
        WHERE repository_search MATCH ?1 AND \(after(order, "r."))
        ORDER BY \(ordering(order, "r.")) LIMIT ?\(limitParameter(order))
        """
    }

    /// The filter as an FTS5 phrase: the string in double quotes, its own doubled. With the
    /// trigram tokenizer a phrase matches wherever the string occurs in a name.
    static func phrase(_ filter: String) -> String {
        "\"" + filter.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func limitParameter(_ order: RepositoryOrder) -> Int {
        order == .name ? 3 : 4
    }

    private static func after(_ order: RepositoryOrder, _ table: String = "") -> String {
        switch order {
        case .name: "\(table)name > ?2"
        case .pushed: "(\(table)pushed_at < ?2 OR (\(table)pushed_at = ?2 AND \(table)name > ?3))"
        case .size: "(\(table)blob_bytes < ?2 OR (\(table)blob_bytes = ?2 AND \(table)name > ?3))"
        }
    }

    private static func ordering(_ order: RepositoryOrder, _ table: String = "") -> String {
        switch order {
        case .name: "\(table)name"
        case .pushed: "\(table)pushed_at DESC, \(table)name"
        case .size: "\(table)blob_bytes DESC, \(table)name"
        }
    }
}
