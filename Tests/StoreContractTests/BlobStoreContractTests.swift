import Foundation
import NIOCore
import RegistryCore
import RegistryStorage
import Testing

/// What every ``BlobStore`` must do.
@Suite struct BlobStoreContractTests {
    @Test(arguments: StoreImplementation.all)
    func stagedBytesBecomeABlobOnlyWhenCommitted(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let content = bytes(3 * 1024 * 1024 + 17)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        #expect(upload.size == 0)
        upload = try await blobs.append(Chunks(Array(content[..<1_000_000])), to: upload, expectedLength: 1_000_000)
        upload = try await blobs.append(Chunks(Array(content[1_000_000...]), chunkSize: 4096), to: upload, expectedLength: nil)
        #expect(upload.size == Int64(content.count))
        #expect(upload.hasher?.finalize() == digest(content))
        #expect(try await blobs.size(of: digest(content)) == nil)
        #expect(try await blobs.stagedUploadIDs().contains(upload.id))

        try await blobs.commitUpload(upload, as: digest(content))
        try await blobs.discardUpload(id: upload.id)
        #expect(try await blobs.size(of: digest(content)) == Int64(content.count))
        #expect(try await read(digest(content), from: blobs) == content)
        #expect(try await blobs.storedBlobs().contains(digest(content)))
        #expect(!(try await blobs.stagedUploadIDs().contains(upload.id)))
    }

    /// Parts smaller and larger than a store's write buffer, and exactly its size (the
    /// filesystem store gathers 256 KiB and writes larger parts as they are), each hashed and
    /// written in order.
    @Test(arguments: StoreImplementation.all)
    func partsOfEverySizeAreHashedAndStoredInOrder(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        // Not `bytes(_:)`, whose pattern repeats every 256 bytes: parts swapped at equal
        // offsets modulo 256 would go unseen.
        var generator = SystemRandomNumberGenerator()
        let content = (0..<(5 * 1024 * 1024 + 3)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let sizes = [1, 100_000, 300_000, 256 * 1024, 7, 1_048_576, 255 * 1024, 256 * 1024 + 1, 65_536]
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content, sizes: sizes), to: upload, expectedLength: Int64(content.count))
        #expect(upload.size == Int64(content.count))
        #expect(upload.hasher?.finalize() == digest(content))
        try await blobs.commitUpload(upload, as: digest(content))
        #expect(try await read(digest(content), from: blobs) == content)
    }

    @Test(arguments: StoreImplementation.all)
    func rangesStreamExactlyTheirBytes(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let content = bytes(2 * 1024 * 1024 + 5)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
        try await blobs.commitUpload(upload, as: digest(content))
        for range: Range<Int64> in [0..<1, 5..<70_000, 1_048_570..<2_097_157, 0..<Int64(content.count), 9..<9] {
            var out: [UInt8] = []
            try await blobs.read(digest(content), range: range) { out.append(contentsOf: $0.readableBytesView) }
            #expect(out == Array(content[Int(range.lowerBound)..<Int(range.upperBound)]))
        }
        #expect(try await blobs.open(digest(bytes(1, seed: 99)), range: 0..<1) == nil)
    }

    @Test(arguments: StoreImplementation.all)
    func aFailedAppendLeavesTheUploadAsItWas(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let first = bytes(100_000)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(first), to: upload, expectedLength: nil)
        let before = upload
        // A connection that drops mid-body, a body longer and one shorter than its Content-Length.
        await #expect(throws: Chunks.Dropped.self) {
            _ = try await blobs.append(Chunks(bytes(200_000), chunkSize: 10_000, failAfter: 5), to: before, expectedLength: nil)
        }
        await #expect(throws: RegistryError.self) {
            _ = try await blobs.append(Chunks(bytes(5000)), to: before, expectedLength: 4000)
        }
        await #expect(throws: RegistryError.self) {
            _ = try await blobs.append(Chunks(bytes(5000)), to: before, expectedLength: 6000)
        }
        #expect(try await blobs.reconcile(before) == before)
        let rest = bytes(10, seed: 3)
        upload = try await blobs.append(Chunks(rest), to: before, expectedLength: 10)
        try await blobs.commitUpload(upload, as: digest(first + rest))
        #expect(try await read(digest(first + rest), from: blobs) == first + rest)
    }

    @Test(arguments: StoreImplementation.all)
    func committingABlobThatIsStoredKeepsTheStoredCopy(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let content = bytes(4096)
        for _ in 0..<2 {
            var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
            upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
            try await blobs.commitUpload(upload, as: digest(content))
            try await blobs.discardUpload(id: upload.id)
        }
        #expect(try await read(digest(content), from: blobs) == content)
        #expect(try await blobs.stagedUploadIDs().isEmpty)
    }

    @Test(arguments: StoreImplementation.all)
    func rehashingGivesOtherAlgorithmsAndLostStates(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let content = bytes(300_000)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
        #expect(try await blobs.rehash(upload, algorithm: .sha512).finalize() == DigestHasher.digest(of: content, algorithm: .sha512))
        // A state whose hash could not be resumed is rebuilt by reconcile (or append).
        var lost = upload
        lost.hasher = nil
        let rebuilt = try await blobs.reconcile(lost)
        #expect(rebuilt.size == upload.size)
        #expect(rebuilt.hasher?.finalize() == digest(content))
    }

    @Test(arguments: StoreImplementation.all)
    func discardingIsIdempotentAndDeletingIsDurable(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        try await blobs.discardUpload(id: UUID().uuidString.lowercased())
        let content = bytes(1234)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
        try await blobs.discardUpload(id: upload.id)
        try await blobs.discardUpload(id: upload.id)
        #expect(!(try await blobs.stagedUploadIDs().contains(upload.id)))

        upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
        try await blobs.commitUpload(upload, as: digest(content))
        try await blobs.delete([digest(content)])
        #expect(try await blobs.size(of: digest(content)) == nil)
        #expect(try await blobs.open(digest(content), range: 0..<1) == nil)
        try await blobs.delete([digest(content)])
    }

    @Test(arguments: StoreImplementation.all)
    func quarantineTakesABlobOutOfTheStore(_ implementation: StoreImplementation) async throws {
        let blobs = try await implementation.open().blobs
        let content = bytes(777)
        var upload = try await blobs.beginUpload(id: UUID().uuidString.lowercased())
        upload = try await blobs.append(Chunks(content), to: upload, expectedLength: nil)
        try await blobs.commitUpload(upload, as: digest(content))
        try await blobs.quarantine(digest(content))
        #expect(try await blobs.size(of: digest(content)) == nil)
        #expect(!(try await blobs.storedBlobs().contains(digest(content))))
        try await blobs.checkWritable()
    }
}
