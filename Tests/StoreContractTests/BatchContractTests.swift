import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// The batch calls of a bulk import (`registryctl import`): the same rules as the single calls
/// they replace, whichever store implements them.
@Suite struct BatchContractTests {
    @Test(arguments: StoreImplementation.all)
    func batchedBlobsAreRecordedUnderTheirReservationsInEveryRepository(_ implementation: StoreImplementation) async throws {
        let metadata = try await implementation.open().metadata
        let contents = (0..<3).map { bytes(10 + $0, seed: UInt8($0)) }
        let digests = contents.map(digest)
        let reservations = try await metadata.reserveBlobs(digests)
        #expect(reservations.map(\.digest) == digests)
        try await metadata.recordBlobs(
            zip(contents, reservations).map { content, reservation in
                BlobRecord(
                    digest: reservation.digest, size: Int64(content.count),
                    repositories: [repository(), repository("second")], reservation: reservation)
            })
        for (content, blob) in zip(contents, digests) {
            #expect(try await metadata.blobSize(blob, in: repository()) == Int64(content.count))
            #expect(try await metadata.blobSize(blob, in: repository("second")) == Int64(content.count))
            #expect(try await metadata.blobSize(blob, in: repository("third")) == nil)
        }
        // Recording ended the reservations: they cannot record again.
        await #expect(throws: RegistryError.self) {
            try await metadata.recordBlobs([
                BlobRecord(digest: digests[0], size: 10, repositories: [repository("x")], reservation: reservations[0])
            ])
        }
        #expect(try await metadata.blobSize(digests[0], in: repository("x")) == nil)
    }

    /// A dead reservation first in a batch: the batch is refused and nothing after it recorded.
    @Test(arguments: StoreImplementation.all)
    func aBatchWithADeadReservationIsRefused(_ implementation: StoreImplementation) async throws {
        let metadata = try await implementation.open().metadata
        let dead = digest(bytes(20, seed: 1))
        let live = digest(bytes(21, seed: 2))
        let reservations = try await metadata.reserveBlobs([dead, live])
        try await metadata.releaseReservations([reservations[0]])
        await #expect(throws: RegistryError.self) {
            try await metadata.recordBlobs([
                BlobRecord(digest: dead, size: 20, repositories: [repository()], reservation: reservations[0]),
                BlobRecord(digest: live, size: 21, repositories: [repository()], reservation: reservations[1]),
            ])
        }
        #expect(try await metadata.blobSize(dead, in: repository()) == nil)
        #expect(try await metadata.blobSize(live, in: repository()) == nil)
        try await metadata.releaseReservations([reservations[1]])
    }

    /// A digest that a collector has claimed refuses the whole batch, as a single reservation
    /// would be refused.
    @Test(arguments: StoreImplementation.all)
    func aClaimedDigestRefusesTheBatch(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let blob = try await push(bytes(3000, seed: 5), to: repository(), in: stores)
        _ = try await stores.metadata.unlinkBlob(blob, from: repository())
        _ = try await stores.metadata.sweep(CollectionOptions(deleteUntagged: true, grace: .zero))
        let claimed = try await stores.metadata.claimBlobDeletions(
            limit: 10, collector: "collector-a", lease: GarbageCollector.claimLease)
        #expect(claimed.map(\.digest) == [blob.description])
        await #expect(throws: BlobBeingDeleted.self) {
            _ = try await stores.metadata.reserveBlobs([digest(bytes(5)), blob])
        }
    }

    @Test(arguments: StoreImplementation.all)
    func batchedManifestsAreStoredInOrderAndRefusalsChangeNothing(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let metadata = stores.metadata
        let config = Array("{\"batch\":1}".utf8)
        let layer = bytes(300, seed: 3)
        try await push(config, to: repository(), in: stores)
        try await push(layer, to: repository(), in: stores)
        let image = try imageManifest(config: config, layers: [layer])
        let missing = try imageManifest(config: config, layers: [bytes(301, seed: 4)])
        let list = try index(of: [image])
        let refusals = try await metadata.putManifests(
            [
                ManifestPut(manifest: image, tag: nil), ManifestPut(manifest: missing, tag: try Tag("broken")),
                ManifestPut(manifest: list, tag: nil), ManifestPut(manifest: image, tag: try Tag("v1")),
            ], in: repository())
        #expect(refusals.map { $0?.code } == [nil, .manifestBlobUnknown, nil, nil])
        #expect(try await metadata.manifest(.digest(image.digest), in: repository())?.bytes == image.bytes)
        #expect(try await metadata.manifest(.digest(list.digest), in: repository())?.bytes == list.bytes)
        #expect(try await metadata.manifest(.tag(Tag("v1")), in: repository())?.digest == image.digest)
        #expect(try await metadata.manifest(.digest(missing.digest), in: repository()) == nil)
        #expect(try await metadata.manifest(.tag(Tag("broken")), in: repository()) == nil)
        #expect(try await metadata.tags(in: repository(), after: nil, limit: nil) == ["v1"])
    }

    /// Stores that take in files (the filesystem): a batch is placed whole and readable.
    @Test(arguments: StoreImplementation.all)
    func importedFilesBecomeTheirBlobs(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        guard let importing = stores.blobs as? any BlobFileImporting else { return }
        let folder = NSTemporaryDirectory() + "berth-import-batch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let contents = (0..<4).map { bytes(100 * ($0 + 1), seed: UInt8(40 + $0)) }
        var files: [FileToImport] = []
        for (index, content) in contents.enumerated() {
            let path = "\(folder)/\(index)"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(content)))
            files.append(FileToImport(path: path, digest: digest(content), size: Int64(content.count)))
        }
        // One of them in the store already.
        try await push(contents[0], to: repository(), in: stores)
        let linked = try await importing.importFiles(files)
        #expect(linked.count == files.count)
        for (file, content) in zip(files, contents) {
            #expect(try await read(file.digest, from: stores.blobs) == content)
            // The source is only read.
            #expect(FileManager.default.contents(atPath: file.path) == Data(content))
        }
    }
}
