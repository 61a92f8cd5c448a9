import Foundation
import NIOCore
import Synchronization
import Testing

@testable import RegistryCore
@testable import RegistryStorage

/// Metadata reads run on GRDB's reader queues, not on the cooperative thread pool: a flood of
/// slow reads must not starve other tasks (on this 2-core machine the pool has two threads,
/// so two blocking reads at a time would stop everything else).
@Suite struct ReadConcurrencyTests {
    @Test func aFloodOfSlowReadsLeavesTheCooperativePoolFree() async throws {
        let root = NSTemporaryDirectory() + "berth-reads-" + UUID().uuidString
        let blobs = try FilesystemBlobStore(root: root)
        let metadata = try SQLiteMetadataStore(path: root + "/registry.db")
        let uploads = BlobUploads(blobs: blobs, metadata: metadata)
        let repository = try RepositoryName("many")
        let config = Array("{}".utf8)
        _ = try await uploads.uploadWhole(
            to: repository, digest: DigestHasher.digest(of: config), body: RequestChunks(chunks: [ByteBuffer(bytes: config)]),
            length: nil)
        let manifest = try Manifest(
            bytes: Array(
                """
                {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)","config":{"mediaType":"a",\
                "digest":"\(DigestHasher.digest(of: config))","size":2},"layers":[]}
                """.utf8), contentType: nil)
        try await metadata.pool.write { db in
            try db.execute(sql: "INSERT INTO repository (name, created_at) VALUES ('many', 0) ON CONFLICT DO NOTHING")
        }
        try await metadata.putManifest(manifest, in: repository, tag: try Tag("t0"))
        try await metadata.pool.write { db in
            // 20,000 tags make one full listing take a few milliseconds.
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
                    INSERT INTO tag (repository_id, name, manifest_id, updated_at)
                    SELECT (SELECT id FROM repository WHERE name = 'many'), 'tag-' || i,
                        (SELECT id FROM manifest LIMIT 1), 0 FROM n
                    """)
        }

        let ticker = Ticker()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var last = ContinuousClock.now
                while !ticker.stopped.load(ordering: .relaxed) {
                    try await Task.sleep(for: .milliseconds(5))
                    let now = ContinuousClock.now
                    ticker.longestGap.withLock { $0 = max($0, now - last) }
                    last = now
                }
            }
            let floodStarted = ContinuousClock.now
            try await withThrowingTaskGroup(of: Int.self) { readers in
                for _ in 0..<64 {
                    readers.addTask {
                        var total = 0
                        for _ in 0..<5 { total += try await metadata.tags(in: repository, after: nil, limit: nil)?.count ?? 0 }
                        return total
                    }
                }
                for try await count in readers { #expect(count == 5 * 20_001) }
            }
            ticker.flood.withLock { $0 = ContinuousClock.now - floodStarted }
            ticker.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        // The ticker wakes every 5 ms; blocked pool threads would hold it for (nearly) the whole
        // flood. Measured against the flood's own length, so a machine busy with other work
        // (which slows both) does not decide the outcome: with synchronous reads the longest
        // gap was 99% of the flood, with GRDB's asynchronous reads a few percent.
        let gap = ticker.longestGap.withLock { $0 }
        let flood = ticker.flood.withLock { $0 }
        #expect(gap < flood / 4, "the cooperative pool was blocked for \(gap) of a \(flood) flood of reads")
        try metadata.close()
    }
}

/// A task that wakes on a short timer and remembers the longest wait between wake-ups.
private final class Ticker: Sendable {
    let longestGap = Mutex<Duration>(.zero)
    let stopped = Atomic<Bool>(false)
    let flood = Mutex<Duration>(.zero)
}
