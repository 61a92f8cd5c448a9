import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// What every ``MetadataStore`` must do.
@Suite struct MetadataStoreContractTests {
    @Test(arguments: StoreImplementation.all)
    func uploadSessionsKeepTheirStagedState(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let id = UUID().uuidString.lowercased()
        let started = Date(timeIntervalSince1970: 1_700_000_000)
        try await metadata.createUpload(
            UploadSession(id: id, repository: repository(), startedAt: started, staged: StagedUpload(id: id)))
        var staged = StagedUpload(id: id, size: 5, hasher: DigestHasher(), location: "somewhere")
        staged.hasher?.update(bytes: Array("hello".utf8))
        #expect(try await metadata.updateUpload(id: id, staged: staged, expectedSize: 0))
        // Another request that read the old state cannot overwrite the new one.
        #expect(!(try await metadata.updateUpload(id: id, staged: StagedUpload(id: id, size: 9), expectedSize: 0)))
        let session = try #require(try await metadata.upload(id: id))
        #expect(session.repository == repository())
        #expect(session.startedAt == started)
        #expect(session.staged == staged)
        #expect(session.staged.hasher?.finalize() == digest(Array("hello".utf8)))
        #expect(try await metadata.uploadIDs() == [id])
        try await metadata.deleteUpload(id: id)
        #expect(try await metadata.upload(id: id) == nil)
        #expect(!(try await metadata.updateUpload(id: id, staged: staged, expectedSize: 5)))
    }

    @Test(arguments: StoreImplementation.all)
    func aBlobIsRecordedOnlyUnderALiveReservation(_ implementation: StoreImplementation) async throws {
        let metadata = try await implementation.open().metadata
        let blob = digest(bytes(10))
        let reservation = try await metadata.reserveBlob(blob)
        try await metadata.recordBlob(blob, size: 10, in: repository(), reservation: reservation, completingUpload: nil)
        #expect(try await metadata.blobSize(blob, in: repository()) == 10)
        #expect(try await metadata.blobSize(blob, in: repository("other")) == nil)
        // Recording ended the reservation: it cannot record again.
        await #expect(throws: RegistryError.self) {
            try await metadata.recordBlob(blob, size: 10, in: repository("x"), reservation: reservation, completingUpload: nil)
        }
        let released = try await metadata.reserveBlob(blob)
        try await metadata.releaseReservation(released)
        await #expect(throws: RegistryError.self) {
            try await metadata.recordBlob(blob, size: 10, in: repository("x"), reservation: released, completingUpload: nil)
        }
        #expect(try await metadata.blobSize(blob, in: repository("x")) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func recordingABlobEndsItsUploadSession(_ implementation: StoreImplementation) async throws {
        let metadata = try await implementation.open().metadata
        let id = UUID().uuidString.lowercased()
        try await metadata.createUpload(
            UploadSession(id: id, repository: repository(), startedAt: Date(), staged: StagedUpload(id: id)))
        let blob = digest(bytes(3))
        try await metadata.recordBlob(
            blob, size: 3, in: repository(), reservation: try await metadata.reserveBlob(blob), completingUpload: id)
        #expect(try await metadata.upload(id: id) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func mountsLinkOnlyWhatTheSourceCanSee(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let blob = try await push(bytes(50), to: repository("source"), in: stores)
        #expect(!(try await metadata.mountBlob(blob, from: repository("elsewhere"), into: repository("target"))))
        #expect(try await metadata.blobSize(blob, in: repository("target")) == nil)
        #expect(try await metadata.mountBlob(blob, from: repository("source"), into: repository("target")))
        #expect(try await metadata.blobSize(blob, in: repository("target")) == 50)
        #expect(try await metadata.mountBlobFromAnyRepository(blob, into: repository("third")))
        #expect(!(try await metadata.mountBlobFromAnyRepository(digest(bytes(1)), into: repository("third"))))
        #expect(try await metadata.unlinkBlob(blob, from: repository("target")))
        #expect(!(try await metadata.unlinkBlob(blob, from: repository("target"))))
        #expect(try await metadata.blobSize(blob, in: repository("target")) == nil)
        #expect(try await metadata.blobSize(blob, in: repository("source")) == 50)
    }

    @Test(arguments: StoreImplementation.all)
    func aManifestNeedsEveryBlobItNamesWithItsSize(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let config = Array("{}".utf8)
        let layer = bytes(200)
        try await push(config, to: repository(), in: stores)
        let missing = try imageManifest(config: config, layers: [layer])
        await #expect {
            try await metadata.putManifest(missing, in: repository(), tag: try Tag("v1"))
        } throws: { ($0 as? RegistryError)?.code == .manifestBlobUnknown }
        #expect(try await metadata.manifest(.tag(Tag("v1")), in: repository()) == nil)
        #expect(try await metadata.manifest(.digest(missing.digest), in: repository()) == nil)

        try await push(layer, to: repository(), in: stores)
        var wrongSize = String(decoding: missing.bytes, as: UTF8.self)
        wrongSize = wrongSize.replacingOccurrences(of: "\"size\":200", with: "\"size\":201")
        let lying = try Manifest(bytes: Array(wrongSize.utf8), contentType: MediaType.ociManifest)
        await #expect {
            try await metadata.putManifest(lying, in: repository(), tag: nil)
        } throws: { ($0 as? RegistryError)?.code == .manifestInvalid }
        // Visible in its own repository only.
        try await metadata.putManifest(missing, in: repository(), tag: try Tag("v1"))
        #expect(try await metadata.manifest(.tag(Tag("v1")), in: repository())?.bytes == missing.bytes)
        await #expect {
            try await metadata.putManifest(missing, in: repository("elsewhere"), tag: nil)
        } throws: { ($0 as? RegistryError)?.code == .manifestBlobUnknown }
    }

    @Test(arguments: StoreImplementation.all)
    func indexesNeedTheirChildrenInTheRepository(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let child = try await pushImage(repository(), tag: nil, in: stores)
        let list = try index(of: [child])
        await #expect {
            try await stores.metadata.putManifest(list, in: repository("other"), tag: nil)
        } throws: { ($0 as? RegistryError)?.code == .manifestBlobUnknown }
        try await stores.metadata.putManifest(list, in: repository(), tag: try Tag("multi"))
        let stored = try await stores.metadata.manifest(.tag(Tag("multi")), in: repository())
        #expect(stored?.mediaType == MediaType.ociIndex)
        #expect(stored?.digest == list.digest)
    }

    @Test(arguments: StoreImplementation.all)
    func tagsMoveAndDeletesCascade(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let first = try await pushImage(repository(), tag: "b", in: stores, seed: 1)
        let second = try await pushImage(repository(), tag: nil, in: stores, seed: 2)
        for tag in ["a", "c"] { try await metadata.putManifest(first, in: repository(), tag: try Tag(tag)) }
        #expect(try await metadata.tags(in: repository(), after: nil, limit: nil) == ["a", "b", "c"])
        #expect(try await metadata.tags(in: repository(), after: "a", limit: 1) == ["b"])
        try await metadata.putManifest(second, in: repository(), tag: try Tag("b"))
        #expect(try await metadata.manifest(.tag(Tag("b")), in: repository())?.digest == second.digest)
        #expect(try await metadata.deleteTag(Tag("a"), in: repository()))
        #expect(!(try await metadata.deleteTag(Tag("a"), in: repository())))
        #expect(try await metadata.deleteManifest(first.digest, in: repository()))
        #expect(try await metadata.tags(in: repository(), after: nil, limit: nil) == ["b"])
        #expect(try await metadata.manifest(.digest(first.digest), in: repository()) == nil)
        #expect(!(try await metadata.deleteManifest(first.digest, in: repository())))
        #expect(try await metadata.tags(in: repository("nope"), after: nil, limit: nil) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func referrersAreFoundBySubjectAndType(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let subject = try await pushImage(repository(), tag: "v1", in: stores)
        let config = Array("{\"sig\":1}".utf8)
        try await push(config, to: repository(), in: stores)
        let signature = try imageManifest(config: config, layers: [], subject: subject, annotation: "sig")
        try await stores.metadata.putManifest(signature, in: repository(), tag: nil)
        let found = try await stores.metadata.referrers(of: subject.digest, in: repository(), artifactType: nil)
        #expect(found.map(\.digest) == [signature.digest])
        #expect(found.first?.subject == subject.digest)
        let typed = try await stores.metadata.referrers(
            of: subject.digest, in: repository(), artifactType: "application/vnd.oci.image.config.v1+json")
        #expect(typed.count == 1)
        #expect(try await stores.metadata.referrers(of: subject.digest, in: repository(), artifactType: "x/y").isEmpty)
        #expect(try await stores.metadata.referrers(of: subject.digest, in: repository("other"), artifactType: nil).isEmpty)
    }

    @Test(arguments: StoreImplementation.all)
    func listingsPageInByteOrder(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let names = ["b/x", "a", "a/b", "c-d", "a_b"]
        for name in names { try await push(bytes(5), to: repository(name), in: stores) }
        let all = try await stores.metadata.repositories(after: nil, limit: nil)
        #expect(all == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        let page = try await stores.metadata.repositories(after: all[1], limit: 2)
        #expect(page == Array(all[2...3]))
    }

    @Test(arguments: StoreImplementation.all)
    func statisticsCountRows(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        try await pushImage(repository(), tag: "v1", in: stores)
        let statistics = try await stores.metadata.statistics()
        #expect(statistics.blobs == 3)
        #expect(statistics.manifests == 1)
        #expect(statistics.tags == 1)
        #expect(statistics.repositories == 1)
        try await stores.metadata.ping()
    }
}
