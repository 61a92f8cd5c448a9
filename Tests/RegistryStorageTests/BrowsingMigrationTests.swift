import Foundation
import GRDB
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The `browse-1` migration on a database written before it: the summary columns are filled
/// from the rows already there, and the triggers keep them current afterwards.
@Suite struct BrowsingMigrationTests {
    @Test func anOlderDatabaseGetsItsSummariesFilledIn() async throws {
        let root = NSTemporaryDirectory() + "berth-migrate-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/registry.db"
        let config = "sha256:" + String(repeating: "a", count: 64)
        let layer = "sha256:" + String(repeating: "b", count: 64)
        let manifest = "sha256:" + String(repeating: "c", count: 64)
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "seams-1")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO repository (id, name, created_at) VALUES (1, 'team/app', 100), (2, 'empty', 100);
                        INSERT INTO blob (digest, size, created_at) VALUES (?, 30, 100), (?, 4000, 100);
                        INSERT INTO repository_blob (repository_id, digest, linked_at) VALUES (1, ?, 100), (1, ?, 100), (2, ?, 100);
                        INSERT INTO manifest (id, repository_id, digest, media_type, size, content, created_at)
                            VALUES (1, 1, ?, 'application/vnd.oci.image.manifest.v1+json', 2, x'7b7d', 200);
                        INSERT INTO tag (repository_id, name, manifest_id, updated_at) VALUES (1, 'v1', 1, 300), (1, 'v2', 1, 250);
                        """,
                    arguments: [config, layer, config, layer, layer, manifest])
            }
            try queue.close()
        }

        let store = try SQLiteMetadataStore(path: path)
        let app = try RepositoryName("team/app")
        let summary = try #require(try await store.repositorySummary(app))
        #expect(summary.tagCount == 2)
        #expect(summary.size == 4030)
        #expect(summary.pushedAt == Date(timeIntervalSince1970: 300))
        #expect(summary.pulledAt == nil)
        let empty = try #require(try await store.repositorySummary(try RepositoryName("empty")))
        #expect(empty.tagCount == 0 && empty.size == 4000 && empty.pushedAt == nil)
        let tags = try #require(try await store.tagSummaries(in: app, matching: "", order: .newest, after: nil, limit: 10))
        #expect(tags.map(\.name) == ["v1", "v2"])
        #expect(tags.first?.manifest.digest.description == manifest)

        // The triggers run from now on.
        #expect(try await store.deleteTag(try Tag("v2"), in: app))
        #expect(try await store.repositorySummary(app)?.tagCount == 1)
        #expect(try await store.unlinkBlob(try Digest(parsing: layer), from: app))
        #expect(try await store.repositorySummary(app)?.size == 30)
        try store.close()
    }

    @Test func listingsWalkAnIndexInTheirOrder() async throws {
        let root = NSTemporaryDirectory() + "berth-plan-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteMetadataStore(path: root + "/registry.db")
        defer { try? store.close() }
        // No listing sorts its rows in a temporary B-tree: each is one index walk that stops
        // after a page, which is what keeps a page cheap over 10,000 repositories.
        let statements = RepositoryOrder.allCases.map(RepositoryListingStatements.walk)
            + TagOrder.allCases.map(SQLiteMetadataStore.tagsSQL)
        for sql in statements {
            // Every `?N` parameter bound to NULL: the plan does not depend on the values.
            let count = sql.split(separator: "?").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }.max() ?? 0
            let plan = try await store.pool.read { db in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + sql,
                    arguments: StatementArguments(Array(repeating: nil as Int?, count: count))
                ).map { ($0["detail"] as String?) ?? "" }
            }
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(sql): \(plan)")
            // A range of an index or of the primary key, not a SCAN of the whole table.
            #expect(plan.first?.hasPrefix("SEARCH") == true, "\(sql): \(plan)")
        }
    }
}
