import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// What only the PostgreSQL store does: schema migrations and the refusals at open, and the
/// rules that must hold between several processes on one database (two stores opened on the
/// same database stand for two registryd nodes).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured)) struct PostgresStoreTests {
    @Test func openRefusesPendingMigrationsAndMigrateUpAppliesThemOnce() async throws {
        let settings = try await PostgresTestDatabase.create(migrated: false)
        do {
            _ = try await PostgresMetadataStore.open(settings)
            Issue.record("opened a database with pending migrations")
        } catch let failure as DatabaseStartupFailure {
            #expect(failure.description.contains("registryctl database migrate up"))
            #expect(!failure.description.contains("\n"))
        }
        let before = try await PostgresMetadataStore.migrationStatus(settings)
        #expect(before.applied.isEmpty)
        #expect(before.pending == PostgresSchema.migrations.map(\.version))
        let applied = try await PostgresMetadataStore.migrateUp(settings)
        #expect(applied.map(\.version) == PostgresSchema.migrations.map(\.version))
        #expect(try await PostgresMetadataStore.migrateUp(settings).isEmpty)
        #expect(try await PostgresMetadataStore.migrationStatus(settings).isCurrent)
        let store = try await PostgresMetadataStore.open(settings)
        try await store.ping()
        await store.close()
    }

    @Test func concurrentMigrateUpAppliesEachMigrationOnce() async throws {
        let settings = try await PostgresTestDatabase.create(migrated: false)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresMetadataStore.migrateUp(settings).count } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(counts.reduce(0, +) == PostgresSchema.migrations.count)
    }

    @Test func openFailsWithOneLineWhenTheServerIsUnreachable() async throws {
        var settings = try PostgresTestDatabase.serverSettings()
        settings.port = 1  // nothing listens there
        settings.connectTimeout = .seconds(1)
        let started = ContinuousClock.now
        do {
            _ = try await PostgresMetadataStore.open(settings)
            Issue.record("opened an unreachable database")
        } catch let failure as DatabaseStartupFailure {
            #expect(failure.description.contains("cannot reach the database"))
            #expect(!failure.description.contains(settings.password))
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func racingAppendsOnTwoNodesHaveOneWinner() async throws {
        let nodeA = try await StoreImplementation.postgresAndFilesystem.open()
        let nodeB = try await nodeA.reopen()
        let id = UUID().uuidString.lowercased()
        try await nodeA.metadata.createUpload(
            UploadSession(id: id, repository: repository(), startedAt: Date(), staged: StagedUpload(id: id)))
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for attempt in 0..<16 {
                let metadata = attempt % 2 == 0 ? nodeA.metadata : nodeB.metadata
                group.addTask {
                    try await metadata.updateUpload(
                        id: id, staged: StagedUpload(id: id, size: Int64(attempt + 1)), expectedSize: 0)
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(wins == 1)
    }

    @Test func aTagMovedOnOneNodeIsReadAtOnceOnTheOther() async throws {
        let nodeA = try await StoreImplementation.postgresAndFilesystem.open()
        let nodeB = try await nodeA.reopen()
        let name = repository()
        let config = Array("{\"seed\":9}".utf8)
        let layer = bytes(2000, seed: 9)
        try await push(config, to: name, in: nodeA)
        try await push(layer, to: name, in: nodeA)
        let tag = try Tag("moving")
        for round in 0..<100 {
            let manifest = try imageManifest(config: config, layers: [layer], annotation: "\(round)")
            try await nodeA.metadata.putManifest(manifest, in: name, tag: tag)
            let read = try await nodeB.metadata.manifest(.tag(tag), in: name)
            #expect(read?.digest == manifest.digest, "round \(round)")
        }
    }

    /// Node B answers tag lists from its cache; a tag added or deleted on node A is in (or
    /// gone from) B's list as soon as A's write returned, while readers keep B's cache busy.
    @Test func tagListsCachedOnOneNodeFollowChangesOnTheOther() async throws {
        let nodeA = try await StoreImplementation.postgresAndFilesystem.open()
        let nodeB = try await nodeA.reopen()
        let name = repository()
        let manifest = try await pushImage(name, tag: "first", in: nodeA, seed: 10, layers: 1)
        var expected: Set<String> = ["first"]
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Background readers on B: their fills race every change below. A cache hit does
            // not suspend, so each loop yields: four loops that never do would hold every
            // thread of the cooperative pool (two on two cores) and starve the listener.
            for _ in 0..<4 {
                group.addTask {
                    while !Task.isCancelled {
                        _ = try await nodeB.metadata.tags(in: name, after: nil, limit: nil)
                        await Task.yield()
                    }
                }
            }
            for round in 0..<100 {
                _ = try await nodeB.metadata.tags(in: name, after: nil, limit: nil)
                if round % 4 == 3 {
                    let gone = "t\(round - 1)"
                    #expect(try await nodeA.metadata.deleteTag(try Tag(gone), in: name))
                    expected.remove(gone)
                } else {
                    try await nodeA.metadata.putManifest(manifest, in: name, tag: try Tag("t\(round)"))
                    expected.insert("t\(round)")
                }
                let listed = try await nodeB.metadata.tags(in: name, after: nil, limit: nil)
                #expect(Set(listed ?? []) == expected, "round \(round)")
            }
            group.cancelAll()
        }
    }
}
