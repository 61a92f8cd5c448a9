import Foundation
import RegistryCore
import RegistryStorage
import Testing

/// Upload sessions over the stores, as ``BlobUploads`` runs them: any server may take any
/// request of an upload, because its state lives in the stores.
@Suite struct UploadSessionContractTests {
    @Test(arguments: StoreImplementation.all)
    func eachChunkMayGoToAnotherServer(_ implementation: StoreImplementation) async throws {
        let a = try await implementation.open()
        let b = try await a.reopen()
        let c = try await a.reopen()
        let content = bytes(600_000, seed: 11)
        let id = try await a.uploads().start(in: repository())
        #expect(try await b.uploads().append(id, in: repository(), body: Chunks(Array(content[..<200_000])), start: 0, length: nil) == 200_000)
        #expect(try await c.uploads().append(id, in: repository(), body: Chunks(Array(content[200_000..<400_000])), start: 200_000, length: 200_000) == 400_000)
        #expect(try await b.uploads().size(of: id, in: repository()) == 400_000)
        let size = try await a.uploads().finish(
            id, in: repository(), digest: digest(content), body: Chunks(Array(content[400_000...])), length: nil)
        #expect(size == 600_000)
        #expect(try await read(digest(content), from: c.blobs) == content)
        #expect(try await c.metadata.blobSize(digest(content), in: repository()) == 600_000)
        #expect(try await c.metadata.upload(id: id) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func aChunkThatDoesNotContinueTheUploadChangesNothing(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let uploads = stores.uploads()
        let id = try await uploads.start(in: repository())
        _ = try await uploads.append(id, in: repository(), body: Chunks("abc"), start: nil, length: nil)
        await #expect {
            _ = try await uploads.append(id, in: repository(), body: Chunks("xyz"), start: 10, length: 3)
        } throws: { ($0 as? RegistryError)?.condition == .rangeMismatch }
        #expect(try await uploads.size(of: id, in: repository()) == 3)
        await #expect(throws: RegistryError.self) {
            _ = try await uploads.append(id, in: repository("other"), body: Chunks("xyz"), start: nil, length: nil)
        }
    }

    @Test(arguments: StoreImplementation.all)
    func aMismatchedDigestLeavesNothingBehind(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let uploads = stores.uploads()
        let claimed = digest(Array("something else".utf8))
        let id = try await uploads.start(in: repository())
        await #expect {
            _ = try await uploads.finish(id, in: repository(), digest: claimed, body: Chunks("hello"), length: nil)
        } throws: { ($0 as? RegistryError)?.code == .digestInvalid }
        await #expect(throws: RegistryError.self) {
            _ = try await uploads.uploadWhole(to: repository(), digest: claimed, body: Chunks("hello"), length: 5)
        }
        #expect(try await stores.blobs.size(of: claimed) == nil)
        #expect(try await stores.metadata.blobSize(claimed, in: repository()) == nil)
        #expect(try await stores.metadata.upload(id: id) == nil)
        #expect(try await stores.blobs.stagedUploadIDs().isEmpty)
    }

    @Test(arguments: StoreImplementation.all)
    func aSHA512DigestIsVerifiedByRehashing(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let content = bytes(70_000)
        let sha512 = DigestHasher.digest(of: content, algorithm: .sha512)
        let id = try await stores.uploads().start(in: repository())
        _ = try await stores.uploads().finish(id, in: repository(), digest: sha512, body: Chunks(content), length: nil)
        #expect(try await stores.metadata.blobSize(sha512, in: repository()) == 70_000)
    }

    @Test(arguments: StoreImplementation.all)
    func cancellingAndPurgingRemoveStagedBytes(_ implementation: StoreImplementation) async throws {
        let stores = try await implementation.open()
        let uploads = stores.uploads()
        let cancelled = try await uploads.start(in: repository())
        _ = try await uploads.append(cancelled, in: repository(), body: Chunks(bytes(100)), start: nil, length: nil)
        try await uploads.cancel(cancelled, in: repository())
        #expect(try await stores.metadata.upload(id: cancelled) == nil)
        let stale = try await uploads.start(in: repository())
        let purged = try await UploadPurger(blobs: stores.blobs, metadata: stores.metadata).purge(olderThan: .zero, dryRun: false)
        #expect(purged == [stale])
        #expect(try await stores.blobs.stagedUploadIDs().isEmpty)
        #expect(try await stores.metadata.uploadIDs().isEmpty)
    }
}
