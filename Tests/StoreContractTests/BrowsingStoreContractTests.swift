import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// What every ``BrowsingMetadataStore`` must do: summaries that follow pushes, deletes, mounts
/// and unlinks; listings that filter, sort and page with a cursor; pull times that only move
/// forward.
@Suite struct BrowsingStoreContractTests {
    /// Sizes of what ``pushImage(_:tag:in:seed:layers:)`` links: a 10-byte config and layers of
    /// 1000 and 1001 bytes, all distinct per seed.
    static let imageSize: Int64 = 10 + 1000 + 1001

    @Test(arguments: StoreImplementation.all)
    func summariesFollowPushesDeletesAndLinks(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let name = repository("team/app")
        let before = Date()
        let first = try await pushImage(name, tag: "v1", in: stores, seed: 1)
        try await pushImage(name, tag: "v2", in: stores, seed: 2)
        let after = Date()
        var summary = try #require(try await metadata.repositorySummary(name))
        #expect(summary.name == "team/app")
        #expect(summary.tagCount == 2)
        #expect(summary.size == 2 * Self.imageSize)
        let pushed = try #require(summary.pushedAt)
        #expect(pushed >= before.addingTimeInterval(-1) && pushed <= after.addingTimeInterval(1))
        #expect(summary.pulledAt == nil)

        // A mounted blob counts once, however often it is linked.
        let shared = try await push(bytes(500, seed: 99), to: repository("elsewhere"), in: stores)
        #expect(try await metadata.mountBlob(shared, from: repository("elsewhere"), into: name))
        #expect(try await metadata.mountBlob(shared, from: repository("elsewhere"), into: name))
        #expect(try await metadata.repositorySummary(name)?.size == 2 * Self.imageSize + 500)

        // A tag moved onto another manifest is still one tag, and the push is newer.
        try await Task.sleep(for: .milliseconds(20))
        try await metadata.putManifest(first, in: name, tag: try Tag("v2"))
        summary = try #require(try await metadata.repositorySummary(name))
        #expect(summary.tagCount == 2)
        #expect(try #require(summary.pushedAt) > pushed)

        // Deleting tags and manifests changes the count, not the linked size or the last push.
        #expect(try await metadata.deleteTag(Tag("v1"), in: name))
        #expect(try await metadata.repositorySummary(name)?.tagCount == 1)
        #expect(try await metadata.deleteManifest(first.digest, in: name))
        summary = try #require(try await metadata.repositorySummary(name))
        #expect(summary.tagCount == 0)
        #expect(summary.size == 2 * Self.imageSize + 500)
        #expect(summary.pushedAt != nil)

        // Unlinking a blob takes its size off.
        #expect(try await metadata.unlinkBlob(shared, from: name))
        #expect(try await metadata.repositorySummary(name)?.size == 2 * Self.imageSize)

        // A repository with blobs and no manifest was never pushed to; an unknown one has no summary.
        let blobsOnly = try #require(try await metadata.repositorySummary(repository("elsewhere")))
        #expect(blobsOnly.tagCount == 0 && blobsOnly.size == 500 && blobsOnly.pushedAt == nil)
        #expect(try await metadata.repositorySummary(repository("nobody/here")) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func repositoryListingsSortFilterAndPage(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        // Pushed in this order, each a little later; sizes grow with the number of layers.
        let names = ["b/two", "a/one", "c/three", "d/four-app"]
        for (index, name) in names.enumerated() {
            try await pushImage(repository(name), tag: "latest", in: stores, seed: UInt8(10 * index + 1), layers: index + 1)
            try await Task.sleep(for: .milliseconds(15))
        }
        try await push(bytes(7), to: repository("e/blobs-only"), in: stores)

        func all(_ order: RepositoryOrder, _ filter: String = "", pageSize: Int) async throws -> [String] {
            var names: [String] = []
            var cursor: ListingCursor?
            while true {
                let page = try await metadata.repositorySummaries(matching: filter, order: order, after: cursor, limit: pageSize)
                names += page.map(\.name)
                guard page.count == pageSize, let last = page.last else { return names }
                cursor = ListingCursor(after: last)
            }
        }
        for pageSize in [1, 2, 10] {
            #expect(try await all(.name, pageSize: pageSize) == ["a/one", "b/two", "c/three", "d/four-app", "e/blobs-only"])
            #expect(try await all(.pushed, pageSize: pageSize) == ["d/four-app", "c/three", "a/one", "b/two", "e/blobs-only"])
            #expect(try await all(.size, pageSize: pageSize) == ["d/four-app", "c/three", "a/one", "b/two", "e/blobs-only"])
            #expect(try await all(.name, "O", pageSize: pageSize) == ["a/one", "b/two", "d/four-app", "e/blobs-only"])
            #expect(try await all(.pushed, "app", pageSize: pageSize) == ["d/four-app"])
        }
        #expect(try await all(.size, "nothing-matches", pageSize: 3) == [])

        let rows = try await metadata.repositorySummaries(matching: "", order: .size, after: nil, limit: 10)
        #expect(rows.map(\.tagCount) == [1, 1, 1, 1, 0])
        // Configs of seeds 11 and up are 11 bytes.
        let largest = try #require(rows.first)
        #expect(largest.size == Int64(11 + 1000 + 1001 + 1002 + 1003), "\(largest)")
        // Equal keys are ordered by name: two repositories with the same size.
        try await push(bytes(7), to: repository("a/also-seven"), in: stores)
        let tail = try await metadata.repositorySummaries(
            matching: "", order: .size, after: ListingCursor(after: rows[3]), limit: 10)
        #expect(tail.map(\.name) == ["a/also-seven", "e/blobs-only"])
        let tie = try await metadata.repositorySummaries(matching: "", order: .size, after: ListingCursor(after: tail[0]), limit: 10)
        #expect(tie.map(\.name) == ["e/blobs-only"])
    }

    @Test(arguments: StoreImplementation.all)
    func tagListingsSortNewestFirstFilterAndPage(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let name = repository()
        let image = try await pushImage(name, tag: nil, in: stores)
        let order = ["v1.0", "v1.1", "beta", "V2-RC", "v2"]
        for tag in order {
            try await metadata.putManifest(image, in: name, tag: try Tag(tag))
            try await Task.sleep(for: .milliseconds(15))
        }
        func all(_ sort: TagOrder, _ filter: String = "", pageSize: Int) async throws -> [String] {
            var names: [String] = []
            var cursor: ListingCursor?
            while true {
                let page = try #require(
                    try await metadata.tagSummaries(in: name, matching: filter, order: sort, after: cursor, limit: pageSize))
                names += page.map(\.name)
                guard page.count == pageSize, let last = page.last else { return names }
                cursor = ListingCursor(after: last)
            }
        }
        for pageSize in [1, 2, 10] {
            #expect(try await all(.newest, pageSize: pageSize) == order.reversed())
            #expect(try await all(.name, pageSize: pageSize) == ["V2-RC", "beta", "v1.0", "v1.1", "v2"])
            #expect(try await all(.newest, "v2", pageSize: pageSize) == ["v2", "V2-RC"])
            #expect(try await all(.name, "V1", pageSize: pageSize) == ["v1.0", "v1.1"])
        }
        let first = try #require(try await metadata.tagSummaries(in: name, matching: "", order: .newest, after: nil, limit: 2))
        #expect(first.map(\.name) == ["v2", "V2-RC"])
        #expect(first[0].manifest.digest == image.digest)
        #expect(first[0].manifest.bytes == image.bytes)
        #expect(first[0].pushedAt > first[1].pushedAt)

        // A page continues after its cursor even when the cursor's tag was deleted meanwhile.
        #expect(try await metadata.deleteTag(Tag("V2-RC"), in: name))
        let next = try #require(
            try await metadata.tagSummaries(in: name, matching: "", order: .newest, after: ListingCursor(after: first[1]), limit: 10))
        #expect(next.map(\.name) == ["beta", "v1.1", "v1.0"])

        // A filter's `_` is a character, not a wildcard (SQLite filters with LIKE).
        for tag in ["RC_1", "rc1x"] { try await metadata.putManifest(image, in: name, tag: try Tag(tag)) }
        #expect(try await all(.name, "c_", pageSize: 10) == ["RC_1"])
        #expect(try await all(.name, "C1", pageSize: 10) == ["rc1x"])

        #expect(try await metadata.tagSummaries(in: repository("nobody/here"), matching: "", order: .name, after: nil, limit: 5) == nil)
        try await push(bytes(3), to: repository("blobs/only"), in: stores)
        #expect(try await metadata.tagSummaries(in: repository("blobs/only"), matching: "", order: .newest, after: nil, limit: 5) == [])
    }

    @Test(arguments: StoreImplementation.all)
    func pullTimesOnlyMoveForward(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let name = repository()
        let image = try await pushImage(name, tag: "v1", in: stores)
        try await metadata.putManifest(image, in: name, tag: try Tag("v2"))
        let early = Date(timeIntervalSince1970: 1_900_000_000)
        let late = Date(timeIntervalSince1970: 1_900_000_500)
        try await metadata.recordPulls([
            PullRecord(repository: name, reference: .tag(try Tag("v1")), time: late),
            PullRecord(repository: name, reference: .digest(image.digest), time: early),
            // Unknown tags, manifests and repositories are skipped.
            PullRecord(repository: name, reference: .tag(try Tag("gone")), time: late.addingTimeInterval(100)),
            PullRecord(repository: name, reference: .digest(digest(bytes(1))), time: late.addingTimeInterval(100)),
            PullRecord(repository: repository("nobody/here"), reference: .tag(try Tag("v1")), time: late),
        ])
        var tags = try #require(try await metadata.tagSummaries(in: name, matching: "", order: .name, after: nil, limit: 5))
        #expect(tags.map(\.name) == ["v1", "v2"])
        #expect(tags[0].pulledAt == late)
        #expect(tags[0].manifestPulledAt == early)
        #expect(tags[1].pulledAt == nil)
        #expect(tags[1].manifestPulledAt == early)
        #expect(try await metadata.repositorySummary(name)?.pulledAt == late)
        #expect(try await metadata.repositorySummary(repository("nobody/here")) == nil)

        // An earlier time changes nothing; a later one moves it.
        try await metadata.recordPulls([
            PullRecord(repository: name, reference: .tag(try Tag("v1")), time: early),
            PullRecord(repository: name, reference: .digest(image.digest), time: late),
        ])
        tags = try #require(try await metadata.tagSummaries(in: name, matching: "", order: .name, after: nil, limit: 5))
        #expect(tags[0].pulledAt == late)
        #expect(tags[0].manifestPulledAt == late)
        try await metadata.recordPulls([])
        #expect(try await metadata.repositorySummary(name)?.pulledAt == late)
        // Pulls are not pushes.
        #expect(try #require(try await metadata.repositorySummary(name)?.pushedAt) < early)
    }
}
