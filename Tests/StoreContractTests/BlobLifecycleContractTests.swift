import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// The rules of ``GarbageCollector``: what is kept, what goes, and that a blob row never
/// outlives its bytes, whatever interleaving of uploads, collections and backups.
@Suite struct BlobLifecycleContractTests {
    let keepNothing = CollectionOptions(deleteUntagged: true, grace: .zero)

    @Test(arguments: StoreImplementation.all)
    func collectionRemovesWhatNothingNeedsAndKeepsTheRest(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let kept = try await pushImage(repository(), tag: "v1", in: stores, seed: 1)
        let untagged = try await pushImage(repository(), tag: nil, in: stores, seed: 2)
        let child = try await pushImage(repository(), tag: nil, in: stores, seed: 3)
        try await stores.metadata.putManifest(try index(of: [child]), in: repository(), tag: try Tag("multi"))
        let loose = try await push(bytes(64, seed: 9), to: repository(), in: stores)
        _ = try await stores.metadata.unlinkBlob(loose, from: repository())

        let report = try await stores.collector().run(keepNothing)
        #expect(report.manifests.map(\.digest) == [untagged.digest.description])
        let gone = Set(untagged.blobReferences.map(\.digest) + [loose])
        #expect(Set(report.blobs.map(\.digest)) == Set(gone.map(\.description)))
        for blob in gone { #expect(try await stores.blobs.size(of: blob) == nil) }
        for blob in (kept.blobReferences + child.blobReferences).map(\.digest) {
            #expect(try await read(blob, from: stores.blobs) != nil)
            #expect(try await stores.metadata.blobSize(blob, in: repository()) != nil)
        }
        #expect(try await stores.metadata.manifest(.digest(child.digest), in: repository()) != nil)
        let check = try await ConsistencyCheck(blobs: stores.blobs, metadata: stores.metadata, changes: nil).run(repair: false)
        #expect(check.isClean)
    }

    @Test(arguments: StoreImplementation.all)
    func graceAndDryRunKeepEverything(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let untagged = try await pushImage(repository(), tag: nil, in: stores)
        let dry = try await stores.collector().run(CollectionOptions(deleteUntagged: true, grace: .zero, dryRun: true))
        #expect(dry.manifests.count == 1)
        #expect(dry.blobs.count == untagged.blobReferences.count)
        let graced = try await stores.collector().run(CollectionOptions(deleteUntagged: true, grace: .seconds(3600)))
        #expect(graced.manifests.isEmpty && graced.blobs.isEmpty)
        for blob in untagged.blobReferences.map(\.digest) { #expect(try await stores.blobs.size(of: blob) != nil) }
        #expect(try await stores.metadata.manifest(.digest(untagged.digest), in: repository()) != nil)
    }

    @Test(arguments: StoreImplementation.all)
    func referrersOfKeptManifestsAreKept(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let subject = try await pushImage(repository(), tag: "v1", in: stores)
        let config = Array("{\"sbom\":true}".utf8)
        try await push(config, to: repository(), in: stores)
        let sbom = try imageManifest(config: config, layers: [], subject: subject, annotation: "sbom")
        try await stores.metadata.putManifest(sbom, in: repository(), tag: nil)
        let report = try await stores.collector().run(keepNothing)
        #expect(report.manifests.isEmpty)
        #expect(try await stores.metadata.manifest(.digest(sbom.digest), in: repository()) != nil)
    }

    /// An upload that reserved its digest before a collection queued and tried to claim it:
    /// the claim waits for the reservation, the row is recorded, and the bytes stay.
    @Test(arguments: StoreImplementation.all)
    func aReservationKeepsBytesFromACollectorOnAnotherServer(_ implementation: StoreImplementation) async throws {
        let server = try await implementation.open()
        let collectorServer = try await server.reopen()
        let content = bytes(5000, seed: 42)
        let blob = try await push(content, to: repository(), in: server)
        _ = try await server.metadata.unlinkBlob(blob, from: repository())

        // The same bytes again, on the upload server: reserved, then placed...
        let reservation = try await server.metadata.reserveBlob(blob)
        var staged = try await server.blobs.beginUpload(id: UUID().uuidString.lowercased())
        staged = try await server.blobs.append(Chunks(content), to: staged, expectedLength: nil)
        try await server.blobs.commitUpload(staged, as: blob)
        // ...while the collector on another server sweeps the old row and tries to delete.
        let report = try await collectorServer.collector().run(keepNothing)
        #expect(report.blobs.isEmpty)
        try await server.metadata.recordBlob(
            blob, size: Int64(content.count), in: repository(), reservation: reservation, completingUpload: nil)
        #expect(try await read(blob, from: collectorServer.blobs) == content)
        #expect(try await collectorServer.metadata.blobSize(blob, in: repository()) == 5000)
        #expect(try await collectorServer.metadata.pendingBlobDeletions().isEmpty)
    }

    /// A collector that claimed a digest first: the upload's reservation is refused until the
    /// bytes are gone and the claim dropped, and then the upload lands whole.
    @Test(arguments: StoreImplementation.all)
    func aClaimMakesUploadsOfThatDigestWait(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let other = try await stores.reopen()
        let content = bytes(3000, seed: 5)
        let blob = try await push(content, to: repository(), in: stores)
        _ = try await stores.metadata.unlinkBlob(blob, from: repository())
        _ = try await stores.metadata.sweep(keepNothing)
        let claimed = try await stores.metadata.claimBlobDeletions(
            limit: 10, collector: "collector-a", lease: GarbageCollector.claimLease)
        #expect(claimed.map(\.digest) == [blob.description])
        // A second collector cannot claim it meanwhile.
        #expect(try await other.metadata.claimBlobDeletions(limit: 10, collector: "collector-b", lease: GarbageCollector.claimLease).isEmpty)
        await #expect(throws: BlobBeingDeleted.self) { _ = try await other.metadata.reserveBlob(blob) }

        // An upload of the same bytes waits for the deletion rather than racing it.
        let upload = Task { try await push(content, to: repository("again"), in: other) }
        try await Task.sleep(for: .milliseconds(200))
        try await stores.blobs.delete([blob])
        try await stores.metadata.completeBlobDeletions([blob], collector: "collector-a")
        _ = try await upload.value
        #expect(try await read(blob, from: stores.blobs) == content)
        #expect(try await stores.metadata.blobSize(blob, in: repository("again")) == 3000)
    }

    @Test(arguments: StoreImplementation.all)
    func anAbandonedClaimIsTakenOverAfterItsLease(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let blob = try await push(bytes(100), to: repository(), in: stores)
        _ = try await stores.metadata.unlinkBlob(blob, from: repository())
        _ = try await stores.metadata.sweep(keepNothing)
        #expect(try await stores.metadata.claimBlobDeletions(limit: 10, collector: "dead", lease: .seconds(600)).count == 1)
        #expect(try await stores.metadata.claimBlobDeletions(limit: 10, collector: "next", lease: .seconds(600)).isEmpty)
        try await Task.sleep(for: .milliseconds(50))
        let taken = try await stores.metadata.claimBlobDeletions(limit: 10, collector: "next", lease: .milliseconds(10))
        #expect(taken.map(\.digest) == [blob.description])
        try await stores.blobs.delete([blob])
        try await stores.metadata.completeBlobDeletions([blob], collector: "next")
        #expect(try await stores.metadata.pendingBlobDeletions().isEmpty)
    }

    @Test(arguments: StoreImplementation.all)
    func aBackupPinStopsDeletionsUntilReleased(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        guard let snapshots = stores.metadata as? any SnapshottingMetadataStore else { return }
        let blob = try await push(bytes(100), to: repository(), in: stores)
        let folder = NSTemporaryDirectory() + "berth-snapshot-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let snapshot = try await snapshots.snapshot(to: folder + "/copy.db")
        #expect(snapshot.blobs == [blob])
        _ = try await stores.metadata.unlinkBlob(blob, from: repository())
        let pinned = try await stores.collector().run(keepNothing)
        #expect(pinned.blobs.isEmpty)
        #expect(try await stores.blobs.size(of: blob) == 100)
        try await snapshots.release(snapshot)
        let released = try await stores.collector().run(keepNothing)
        #expect(released.blobs.map(\.digest) == [blob.description])
        #expect(try await stores.blobs.size(of: blob) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func fsckFindsMissingAndCorruptBytesAndRepairForgetsThem(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let image = try await pushImage(repository(), tag: "v1", in: stores)
        let layers = image.layers.map(\.digest)
        try await stores.blobs.delete([layers[0]])
        let check = ConsistencyCheck(blobs: stores.blobs, metadata: stores.metadata, changes: stores.stores.changes)
        let report = try await check.run(repair: false)
        #expect(report.missingFiles == [layers[0].description])
        #expect(report.brokenManifests == ["\(repository())@\(image.digest)"])
        let repaired = try await check.run(repair: true)
        #expect(repaired.repaired)
        #expect(try await stores.metadata.blobSize(layers[0], in: repository()) == nil)
        // The client pushes the layer again and all is well.
        try await push(bytes(1000, seed: 1), to: repository(), in: stores)
        #expect(try await check.run(repair: false).isClean)
    }
}
