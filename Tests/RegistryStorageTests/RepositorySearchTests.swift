import Foundation
import GRDB
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// Repository filters that few names contain, answered by the trigram index of `search-1`
/// (``RepositoryListingStatements``): the same pages, in every order, as a walk of every name.
@Suite struct RepositorySearchTests {
    /// 3,000 names (more than ``RepositoryListingStatements/scannedRows``), with push times and
    /// sizes that repeat, so that the orders by them break ties by name.
    static func names() -> [String] {
        (0..<3000).map { index in
            let team = ["alpha", "beta", "gamma"][index % 3]
            return "\(team)/service-\(String(format: "%04d", index))" + (index % 250 == 7 ? "/needle.x" : "")
        }
    }

    static func open(_ root: String, upTo migration: String? = nil) async throws -> String {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let path = root + "/registry.db"
        let queue = try DatabaseQueue(path: path)
        if let migration { try SQLiteSchema.migrator.migrate(queue, upTo: migration) } else { try SQLiteSchema.migrator.migrate(queue) }
        try await queue.write { db in
            for (index, name) in Self.names().enumerated() {
                try db.execute(
                    sql: "INSERT INTO repository (name, created_at, pushed_at, blob_bytes, tag_count) VALUES (?, 0, ?, ?, 1)",
                    arguments: [name, Double(index % 97), index % 89])
            }
        }
        try queue.close()
        return path
    }

    /// Every page of a filter, in an order, following the cursor.
    static func pages(_ store: SQLiteMetadataStore, _ filter: String, _ order: RepositoryOrder, size: Int) async throws -> [String] {
        var names: [String] = []
        var cursor: ListingCursor?
        while true {
            let page = try await store.repositorySummaries(matching: filter, order: order, after: cursor, limit: size)
            names += page.map(\.name)
            guard page.count == size, let last = page.last else { return names }
            cursor = ListingCursor(after: last)
        }
    }

    static func expected(_ filter: String, _ order: RepositoryOrder) -> [String] {
        let rows = Self.names().enumerated().filter { $0.element.contains(filter.lowercased()) }
        switch order {
        case .name: return rows.map(\.element).sorted()
        case .pushed:
            return rows.sorted { ($0.offset % 97, $1.element) > ($1.offset % 97, $0.element) }.map(\.element)
        case .size:
            return rows.sorted { ($0.offset % 89, $1.element) > ($1.offset % 89, $0.element) }.map(\.element)
        }
    }

    @Test func filtersGiveWhatAWalkOfEveryNameGives() async throws {
        let root = NSTemporaryDirectory() + "berth-search-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteMetadataStore(path: try await Self.open(root))
        defer { try? store.close() }
        #expect(store.searchesNames)
        // Few matches (the trigram index), many (the bounded walk fills the page: "service",
        // "/service-1"), two
        // characters (a walk), a quote and an upper-case filter, and none.
        for filter in ["needle", "ce-07", "NEEDLE.X", "a/", "0", "e-2999", "\"x", "zzz", "ma/service-29", "service", "/service-1"] {
            for order in RepositoryOrder.allCases {
                for size in [5, 50] {
                    let got = try await Self.pages(store, filter, order, size: size)
                    #expect(got == Self.expected(filter, order), "\(filter) \(order) \(size)")
                }
            }
        }
    }

    @Test func theSearchIsDrivenByTheTrigramIndex() async throws {
        let root = NSTemporaryDirectory() + "berth-search-plan-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteMetadataStore(path: try await Self.open(root))
        defer { try? store.close() }
        for order in RepositoryOrder.allCases {
            let sql = RepositoryListingStatements.search(order)
            let parameters = RepositoryListingStatements.limitParameter(order)
            let plan = try await store.pool.read { db in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + sql,
                    arguments: StatementArguments(["\"needle\""] + Array(repeating: nil as Int?, count: parameters - 1))
                ).map { ($0["detail"] as String?) ?? "" }
            }
            #expect(plan.first?.hasPrefix("SCAN repository_search VIRTUAL TABLE") == true, "\(plan)")
            #expect(plan.contains { $0.contains("SEARCH r USING INTEGER PRIMARY KEY") }, "\(plan)")
        }
    }

    /// A database from before `search-1` gets its names indexed, and names added later are too.
    @Test func anOlderDatabaseIsIndexedAndKeptCurrent() async throws {
        let root = NSTemporaryDirectory() + "berth-search-migrate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteMetadataStore(path: try await Self.open(root, upTo: "outbox-1"))
        defer { try? store.close() }
        #expect(try await Self.pages(store, "needle", .name, size: 50) == Self.expected("needle", .name))
        #expect(try await Self.optimizedThrough(store) == 3000)
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO repository (name, created_at) VALUES ('late/needle-arrival', 0)")
        }
        #expect(try await Self.pages(store, "needle", .name, size: 50).contains("late/needle-arrival"))
    }

    /// Names added one by one: the index is merged once the names added since the last merge
    /// reach the larger of 64 and a 64th of all, and stays consistent with the table.
    @Test func theIndexIsMergedAsNamesArrive() async throws {
        let root = NSTemporaryDirectory() + "berth-search-merge-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteMetadataStore(path: try await Self.open(root))
        defer { try? store.close() }
        let start = try #require(try await Self.optimizedThrough(store))
        // Filled in one transaction after the migration: merged every 64 names (64 > 3000 / 64).
        #expect(start == 2944)
        for index in 0..<200 {
            try await store.pool.write { db in
                try db.execute(sql: "INSERT INTO repository (name, created_at) VALUES (?, 0)", arguments: ["late/name-\(index)"])
            }
        }
        // Merged at 3008, 3072, 3136 and 3200.
        #expect(try await Self.optimizedThrough(store) == 3200)
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO repository_search(repository_search) VALUES ('integrity-check')")
        }
        #expect(try await Self.pages(store, "name-19", .name, size: 50).count == 11)
    }

    static func optimizedThrough(_ store: SQLiteMetadataStore) async throws -> Int? {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT optimized_through FROM repository_search_upkeep") }
    }
}
