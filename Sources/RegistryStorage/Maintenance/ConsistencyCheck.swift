import RegistryCore

/// What `registryctl fsck` found.
public struct ConsistencyReport: Sendable, Codable {
    /// Files whose bytes do not hash to their name.
    public var corruptBlobs: [String] = []
    /// Rows whose file is missing (or has the wrong size).
    public var missingFiles: [String] = []
    /// Files no row names (harmless: garbage collection leaves them after a crash).
    public var unrecordedFiles: [String] = []
    /// Manifests that reference a corrupt or missing blob.
    public var brokenManifests: [String] = []
    public var blobsChecked = 0
    public var bytesChecked: Int64 = 0
    public var repaired = false

    public var isClean: Bool {
        corruptBlobs.isEmpty && missingFiles.isEmpty && unrecordedFiles.isEmpty && brokenManifests.isEmpty
    }
}

/// Re-hashes every blob and compares the files with the rows.
public struct ConsistencyCheck: Sendable {
    public let blobs: any BlobStore
    public let metadata: any CheckableMetadataStore
    /// Tells running servers to drop cached metadata after a repair.
    public let changes: (any ChangeNotifier)?

    public init(blobs: any BlobStore, metadata: any CheckableMetadataStore, changes: (any ChangeNotifier)?) {
        self.blobs = blobs
        self.metadata = metadata
        self.changes = changes
    }

    public func run(
        repair: Bool, progress: @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) async throws -> ConsistencyReport {
        var report = ConsistencyReport()
        let recorded = try await metadata.recordedBlobs()
        let stored = Set(try await blobs.storedBlobs())
        var corrupt = Set<Digest>()
        var missing = Set<Digest>()
        var done = 0
        for (digest, size) in recorded.sorted(by: { $0.key < $1.key }) {
            defer {
                done += 1
                progress(done, recorded.count)
            }
            guard stored.contains(digest) else {
                missing.insert(digest)
                continue
            }
            guard let hashed = try await blobs.hash(digest) else {
                missing.insert(digest)
                continue
            }
            let (actual, actualSize) = (hashed.digest, hashed.size)
            report.blobsChecked += 1
            report.bytesChecked += actualSize
            if actual != digest {
                corrupt.insert(digest)
            } else if actualSize != size {
                missing.insert(digest)
            }
        }
        report.corruptBlobs = corrupt.map(\.description).sorted()
        report.missingFiles = missing.map(\.description).sorted()
        report.unrecordedFiles = stored.subtracting(recorded.keys).map(\.description).sorted()
        report.brokenManifests = try await metadata.manifests(referencing: corrupt.union(missing))
        if repair, !corrupt.isEmpty || !missing.isEmpty {
            for digest in corrupt {
                try await blobs.quarantine(digest)
            }
            try await metadata.forgetMissingBlobs(corrupt.union(missing))
            try await changes?.announce()
            report.repaired = true
        }
        return report
    }
}
