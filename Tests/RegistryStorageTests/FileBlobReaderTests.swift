import Foundation
import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// A filesystem blob reader lets go of the chunk it read when it was opened as soon as that
/// chunk is on its way: a response body holds its reader until the last byte is sent, so a
/// kept first chunk (1 MiB) stayed in memory for every download in flight.
@Suite struct FileBlobReaderTests {
    let root = NSTemporaryDirectory() + "berth-reader-" + UUID().uuidString

    /// A blob of `size` bytes written where the store looks for it.
    func storedBlob(_ size: Int) throws -> (FilesystemBlobStore, Digest, [UInt8]) {
        let blobs = try FilesystemBlobStore(root: root)
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) }
        let digest = DigestHasher.digest(of: bytes)
        let path = blobs.path(of: digest)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (blobs, digest, bytes)
    }

    @Test func streamingLetsGoOfTheFirstChunk() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let size = 3 << 20 + 12345
        let (blobs, digest, bytes) = try storedBlob(size)
        let opened = try await blobs.open(digest, range: 0..<Int64(size))
        let reader = try #require(opened as? any FileBackedBlobReader)
        #expect(reader.leadingBytes.readableBytes == blobs.firstReadSize)

        var streamed: [UInt8] = []
        var leadingWhileStreaming: [Int] = []
        try await reader.stream { chunk in
            streamed += chunk.readableBytesView
            leadingWhileStreaming.append(reader.leadingBytes.readableBytes)
        }
        #expect(streamed == bytes)
        #expect(leadingWhileStreaming.allSatisfy { $0 == 0 })
        // What is left for sendfile does not depend on the chunk still being held.
        let rest = try #require(reader.remainingFile)
        #expect(rest.range == Int64(blobs.firstReadSize)..<Int64(size))
    }

    @Test func takingTheLeadingBytesKeepsTheFileRange() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let size = 2 << 20
        let (blobs, digest, bytes) = try storedBlob(size)
        let opened = try await blobs.open(digest, range: 100..<Int64(size))
        let reader = try #require(opened as? any FileBackedBlobReader)

        let leading = reader.takeLeadingBytes()
        #expect(Array(leading.readableBytesView) == Array(bytes[100..<(100 + blobs.firstReadSize)]))
        #expect(reader.leadingBytes.readableBytes == 0)
        let rest = try #require(reader.remainingFile)
        #expect(rest.range == Int64(100 + blobs.firstReadSize)..<Int64(size))
        #expect(rest.descriptor >= 0)
    }

    @Test func aBlobReadWholeHasNoFileLeft() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (blobs, digest, bytes) = try storedBlob(1000)
        let opened = try await blobs.open(digest, range: 0..<1000)
        let reader = try #require(opened as? any FileBackedBlobReader)
        #expect(reader.remainingFile == nil)
        #expect(Array(reader.leadingBytes.readableBytesView) == bytes)
    }
}
