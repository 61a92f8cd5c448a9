import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// What every ``EnumerableMetadataStore`` must list, and ``StoreMigration`` copying from the
/// embedded stores into each implementation and back through that listing.
@Suite struct EnumerationContractTests {
    @Test(arguments: StoreImplementation.all)
    func contentsListBlobLinksEveryManifestAndTags(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let name = repository("team/app")
        #expect(try await metadata.contents(of: name) == nil)
        let first = try await pushImage(name, tag: "v1", in: stores, seed: 1)
        let second = try await pushImage(name, tag: nil, in: stores, seed: 2)
        let list = try index(of: [first, second])
        try await metadata.putManifest(list, in: name, tag: try Tag("multi"))
        try await metadata.putManifest(first, in: name, tag: try Tag("a-first"))
        let loose = try await push(bytes(300, seed: 40), to: name, in: stores)

        let contents = try #require(try await metadata.contents(of: name))
        // Every manifest, tagged or not, oldest first.
        #expect(contents.manifests == [first.digest, second.digest, list.digest])
        #expect(contents.tags.map { [$0.name, $0.digest.description] } == [
            ["a-first", first.digest.description], ["multi", list.digest.description], ["v1", first.digest.description],
        ])
        // When each was set: v1 first, a-first last.
        let pushed = Dictionary(uniqueKeysWithValues: contents.tags.map { ($0.name, $0.pushedAt) })
        #expect(try #require(pushed["v1"]) <= #require(pushed["multi"]))
        #expect(try #require(pushed["multi"]) <= #require(pushed["a-first"]))
        #expect(abs(try #require(pushed["v1"]).timeIntervalSinceNow) < 60)
        // Every linked blob with its size, in digest order, including one no manifest needs.
        var expected = [first, second].flatMap(\.blobReferences).map { RepositoryContents.LinkedBlob(digest: $0.digest, size: $0.size) }
        expected.append(.init(digest: loose, size: 300))
        #expect(contents.blobs == expected.sorted { $0.digest < $1.digest })

        // Deletes and unlinks show; another repository's content does not.
        try await pushImage(repository("other"), tag: "v1", in: stores, seed: 9)
        #expect(try await metadata.deleteTag(Tag("a-first"), in: name))
        #expect(try await metadata.unlinkBlob(loose, from: name))
        let after = try #require(try await metadata.contents(of: name))
        #expect(after.tags.map(\.name) == ["multi", "v1"])
        #expect(after.blobs.count == expected.count - 1)
        #expect(after.manifests == contents.manifests)
    }

    /// Filesystem+SQLite into each implementation: the same contents come out, a second run
    /// copies nothing, and a referrer pushed before its subject lands after it.
    @Test(arguments: StoreImplementation.all)
    func migrationCopiesEverythingOnceInAnOrderTheStoreTakes(_ implementation: StoreImplementation) async throws {
        let source = try await StoreImplementation.filesystemAndSQLite.open()
        let destination = try await implementation.open()
        let name = repository("team/app")
        let first = try await pushImage(name, tag: "v1", in: source, seed: 1)
        let second = try await pushImage(name, tag: nil, in: source, seed: 2)
        try await source.metadata.putManifest(try index(of: [first, second]), in: name, tag: try Tag("multi"))
        let config = Array("{}".utf8)
        try await push(config, to: repository("signed"), in: source)
        let subjectConfig = Array("{\"s\":1}".utf8)
        try await push(subjectConfig, to: repository("signed"), in: source)
        let subject = try imageManifest(config: subjectConfig, layers: [])
        let referrer = try imageManifest(config: config, layers: [], subject: subject)
        try await source.metadata.putManifest(referrer, in: repository("signed"), tag: nil)
        try await source.metadata.putManifest(subject, in: repository("signed"), tag: try Tag("v1"))
        #expect(try await source.metadata.mountBlob(first.blobReferences[1].digest, from: name, into: repository("copy")))
        // "z-old" set before "a-new": newest first must still say a-new, z-old after the copy.
        try await source.metadata.putManifest(first, in: name, tag: try Tag("z-old"))
        try await Task.sleep(for: .milliseconds(20))
        try await source.metadata.putManifest(second, in: name, tag: try Tag("a-new"))

        // A pull-through cache's manifest, whose blobs the source never fetched.
        let cached = try imageManifest(config: Array("{\"cached\":1}".utf8), layers: [bytes(50, seed: 77)])
        try await source.metadata.putManifest(cached.fetchingReferencesLater(), in: repository("mirrored"), tag: try Tag("v1"))

        let spool = NSTemporaryDirectory() + "berth-migration-" + UUID().uuidString
        let migration = StoreMigration(from: source.stores, to: destination.stores, spoolDirectory: spool)
        let report = try await migration.run(dryRun: false)
        #expect(report.problems.isEmpty)
        #expect(report.repositories == 4)
        #expect(report.manifestsCopied == 6 && report.tagsCopied == 6 && report.manifestsWithoutContent == 1)
        #expect(report.blobsCopied == 8 && report.blobsShared == 1)
        for repositoryName in ["team/app", "signed", "copy", "mirrored"] {
            let original = try await source.metadata.contents(of: repository(repositoryName))
            let copied = try await destination.metadata.contents(of: repository(repositoryName))
            #expect(original?.blobs == copied?.blobs)
            #expect(original?.tags.map(\.name) == copied?.tags.map(\.name))
            #expect(original?.tags.map(\.digest) == copied?.tags.map(\.digest))
            #expect(Set(original?.manifests ?? []) == Set(copied?.manifests ?? []))
        }
        let newest = try await destination.metadata.tagSummaries(
            in: name, matching: "", order: .newest, after: nil, limit: 10)
        #expect(newest?.map(\.name) == ["a-new", "z-old", "multi", "v1"])
        let referrers = try await destination.metadata.referrers(of: subject.digest, in: repository("signed"), artifactType: nil)
        #expect(referrers.map(\.digest) == [referrer.digest])
        for blob in try #require(try await source.metadata.contents(of: name)).blobs {
            #expect(try await destination.blobs.hash(blob.digest)?.digest == blob.digest)
        }

        let again = try await migration.run(dryRun: false)
        #expect(again.problems.isEmpty)
        #expect(again.blobsCopied == 0 && again.manifestsCopied == 0 && again.tagsCopied == 0)
        #expect(again.blobsSkipped == 9 && again.manifestsSkipped == 6 && again.tagsSkipped == 6)
        // Spool files go once their blob is stored.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
        #expect(left.isEmpty)
    }
}
