import NIOCore
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// The in-memory cache of small blobs read from the bucket: only verified bytes, only small
/// ones, within its capacity, and gone once this node deletes them.
@Suite struct S3SmallBlobCacheTests {
    private func blob(_ size: Int, _ seed: UInt8) -> (ByteBuffer, Digest) {
        let bytes = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0) &+ seed })
        var hasher = DigestHasher(.sha256)
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return (bytes, hasher.finalize())
    }

    @Test func keepsWhatHashesToItsDigest() {
        let cache = S3SmallBlobCache()
        let (bytes, digest) = blob(1024, 1)
        cache.insert(bytes, as: digest)
        #expect(cache.bytes(of: digest) == bytes)
        #expect(cache.usage.bytes == 1024)
    }

    @Test func refusesBytesThatDoNotMatchTheDigest() {
        let cache = S3SmallBlobCache()
        let (_, digest) = blob(1024, 1)
        let (other, _) = blob(1024, 2)
        cache.insert(other, as: digest)
        #expect(cache.bytes(of: digest) == nil)
        #expect(cache.usage.blobs == 0)
    }

    @Test func refusesABlobAsLongAsTheReadSize() {
        let cache = S3SmallBlobCache()
        let (bytes, digest) = blob(S3SmallBlobCache.readSize, 3)
        cache.insert(bytes, as: digest)
        #expect(cache.bytes(of: digest) == nil)
    }

    @Test func staysWithinItsCapacityDroppingTheOldestFirst() {
        let cache = S3SmallBlobCache(capacity: 40 * 1024)
        let blobs = (0..<20).map { blob(4 * 1024, UInt8($0)) }
        for (bytes, digest) in blobs {
            cache.insert(bytes, as: digest)
            #expect(cache.usage.bytes <= 40 * 1024)
        }
        #expect(cache.bytes(of: blobs[19].1) != nil)
        #expect(cache.bytes(of: blobs[0].1) == nil)
        #expect(cache.usage.blobs == cache.usage.bytes / (4 * 1024))
    }

    @Test func deletedBlobsLeaveAtOnce() {
        let cache = S3SmallBlobCache()
        let (a, digestA) = blob(100, 4)
        let (b, digestB) = blob(200, 5)
        cache.insert(a, as: digestA)
        cache.insert(b, as: digestB)
        cache.remove([digestA])
        #expect(cache.bytes(of: digestA) == nil)
        #expect(cache.bytes(of: digestB) == b)
        #expect(cache.usage.bytes == 200)
        cache.insert(a, as: digestA)
        #expect(cache.usage.bytes == 300)
    }

    @Test func keepsACopyOfExactlyTheBlobsSize() {
        let cache = S3SmallBlobCache()
        var large = ByteBufferAllocator().buffer(capacity: 256 * 1024)
        let (bytes, digest) = blob(512, 6)
        large.writeImmutableBuffer(bytes)
        cache.insert(large, as: digest)
        #expect((cache.bytes(of: digest)?.capacity ?? .max) < 4096)
    }
}
