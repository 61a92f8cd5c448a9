import Foundation
import NIOCore
import NIOPosix
import RegistryCore

/// What `registryctl import` did (or, in a dry run, would do).
public struct ImportReport: Sendable, Codable {
    /// Something that could not be imported, and what needs it.
    public struct Problem: Sendable, Codable, Equatable {
        /// `missing blob`, `corrupt blob`, `invalid manifest`, `manifest not imported`,
        /// `dangling tag`, `bad link`.
        public var kind: String
        public var repository: String
        /// The digest or tag concerned.
        public var reference: String
        /// What it means: the manifests and tags that need a bad blob, or the store's refusal.
        public var detail: String
    }

    public var dryRun: Bool
    public var repositories = 0
    /// Blobs placed in the store by this run (hard links or copies).
    public var blobsImported = 0
    public var blobsLinked = 0
    /// Blobs already in the store, linked into one more repository.
    public var blobsShared = 0
    /// Blob links that were there already (a second run).
    public var blobsSkipped = 0
    public var bytesImported: Int64 = 0
    /// Bytes hashed to verify blobs.
    public var bytesVerified: Int64 = 0
    public var manifestsImported = 0
    public var manifestsSkipped = 0
    public var tagsImported = 0
    public var problems: [Problem] = []
    public var seconds = 0.0

    public init(dryRun: Bool) {
        self.dryRun = dryRun
    }
}

/// Progress of an import, for a progress bar.
public struct ImportProgress: Sendable {
    public var blobsDone: Int
    public var blobsTotal: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64
}

/// Brings a Distribution storage tree into Berth's stores: every repository's blobs (each
/// re-hashed, hard-linked when the tree is on the storage root's file system, copied
/// otherwise), manifests (images before the indexes that list them) and tags, through the
/// same store calls a push makes. So it runs while registryd serves, and a run cut short is
/// completed by the next, which skips what is already there. The tree is only read.
public struct DistributionImport: Sendable {
    public let tree: DistributionTree
    public let blobs: any BlobStore
    public let metadata: any MetadataStore
    public let changes: (any ChangeNotifier)?

    public init(tree: DistributionTree, blobs: any BlobStore, metadata: any MetadataStore, changes: (any ChangeNotifier)?) {
        self.tree = tree
        self.blobs = blobs
        self.metadata = metadata
        self.changes = changes
    }

    /// One repository's content as the tree has it.
    private struct Source {
        var name: RepositoryName
        var blobs: Set<Digest>
        var manifests: [(digest: Digest, manifest: Manifest)]
        var tags: [(tag: String, digest: Digest?)]
    }

    public func run(
        dryRun: Bool, progress: @Sendable (ImportProgress) -> Void = { _ in }
    ) async throws -> ImportReport {
        let start = ContinuousClock.now
        var report = ImportReport(dryRun: dryRun)
        var sources: [Source] = []
        for name in try tree.repositories() {
            guard let repository = try? RepositoryName(name) else {
                report.problems.append(.init(kind: "bad name", repository: name, reference: "", detail: "not a valid repository name"))
                continue
            }
            sources.append(read(repository, into: &report))
        }
        report.repositories = sources.count
        // Each distinct blob is verified once, however many repositories have it.
        let distinct = Set(sources.flatMap(\.blobs))
        let sizes = Dictionary(uniqueKeysWithValues: distinct.map { ($0, (try? POSIXFile.size(tree.blobPath($0))) ?? nil) })
        var state = ImportProgress(
            blobsDone: 0, blobsTotal: distinct.count, bytesDone: 0, bytesTotal: sizes.values.compactMap { $0 }.reduce(0, +))
        // Which repositories still need each blob (a second run skips what is linked).
        var wanted: [Digest: [RepositoryName]] = [:]
        for source in sources {
            for digest in source.blobs.sorted() {
                if try await metadata.blobSize(digest, in: source.name) != nil {
                    report.blobsSkipped += 1
                } else {
                    wanted[digest, default: []].append(source.name)
                }
            }
        }
        var bad: [Digest: String] = [:]
        // Several blobs at once: each placement waits for its own fsyncs, which overlap.
        try await withThrowingTaskGroup(of: BlobOutcome.self) { group in
            var pending = wanted.sorted { $0.key < $1.key }[...]
            func startNext() {
                guard let (digest, repositories) = pending.popFirst() else { return }
                let size = sizes[digest] ?? nil
                group.addTask { try await self.bring(digest, size: size, into: repositories, dryRun: dryRun) }
            }
            for _ in 0..<Self.concurrency { startNext() }
            while let outcome = try await group.next() {
                if let problem = outcome.problem { bad[outcome.digest] = problem }
                report.bytesVerified += outcome.verifiedBytes
                if outcome.placed {
                    report.blobsImported += 1
                    report.bytesImported += outcome.size
                }
                if outcome.linked { report.blobsLinked += 1 }
                report.blobsShared += outcome.shared
                state.blobsDone += 1
                state.bytesDone += outcome.size
                progress(state)
                startNext()
            }
        }
        state.blobsDone = state.blobsTotal
        state.bytesDone = state.bytesTotal
        progress(state)
        for (digest, why) in bad.sorted(by: { $0.key < $1.key }) {
            for source in sources where source.blobs.contains(digest) {
                report.problems.append(.init(
                    kind: why, repository: source.name.value, reference: digest.description,
                    detail: needing(digest, in: source)))
            }
        }
        if !dryRun {
            for source in sources { try await importManifests(source, into: &report) }
            if report.blobsImported + report.blobsShared + report.manifestsImported + report.tagsImported > 0 {
                try await changes?.announce()
            }
        } else {
            for source in sources {
                report.manifestsImported += source.manifests.count
                report.tagsImported += source.tags.filter { $0.digest != nil }.count
            }
        }
        report.seconds = (ContinuousClock.now - start).inSeconds
        return report
    }

    /// Reads a repository's links and manifests. A manifest's blobs count even when the tree
    /// has no layer link for them (a mount that Distribution linked lazily).
    private func read(_ repository: RepositoryName, into report: inout ImportReport) -> Source {
        let layers = tree.layers(of: repository.value)
        let revisions = tree.revisions(of: repository.value)
        for path in layers.bad + revisions.bad {
            report.problems.append(.init(kind: "bad link", repository: repository.value, reference: path, detail: "unreadable link file"))
        }
        var blobs = Set(layers.digests)
        var manifests: [(Digest, Manifest)] = []
        for digest in revisions.digests {
            guard let data = FileManager.default.contents(atPath: tree.blobPath(digest)) else {
                report.problems.append(.init(kind: "missing blob", repository: repository.value, reference: digest.description, detail: "the manifest's own bytes are missing"))
                continue
            }
            let bytes = Array(data)
            do {
                let manifest = try Manifest(bytes: bytes, contentType: nil, algorithm: digest.algorithm)
                guard manifest.digest == digest else {
                    report.problems.append(.init(kind: "corrupt blob", repository: repository.value, reference: digest.description, detail: "the manifest's bytes hash to \(manifest.digest)"))
                    continue
                }
                manifests.append((digest, manifest))
                blobs.formUnion(manifest.blobReferences.map(\.digest))
            } catch {
                report.problems.append(.init(kind: "invalid manifest", repository: repository.value, reference: digest.description, detail: "\(error)"))
            }
        }
        // Manifests whose own bytes live in the blob store are not layers.
        blobs.subtract(manifests.map(\.0))
        return Source(name: repository, blobs: blobs, manifests: manifests, tags: tree.tags(of: repository.value))
    }

    /// Blobs verified and placed at once.
    static let concurrency = 8

    /// What happened to one blob.
    private struct BlobOutcome: Sendable {
        var digest: Digest
        var size: Int64 = 0
        var verifiedBytes: Int64 = 0
        var placed = false
        var linked = false
        /// Repositories it was linked into without placing it (already stored).
        var shared = 0
        var problem: String?
    }

    /// Verifies and places one blob (unless the store has it already, from a run cut short or
    /// a push), then links it into every repository that needs it.
    private func bring(
        _ digest: Digest, size: Int64?, into repositories: [RepositoryName], dryRun: Bool
    ) async throws -> BlobOutcome {
        var outcome = BlobOutcome(digest: digest, size: size ?? 0)
        var remaining = repositories[...]
        if !dryRun, let first = remaining.first, try await blobs.size(of: digest) != nil,
            try await metadata.mountBlobFromAnyRepository(digest, into: first)
        {
            remaining = remaining.dropFirst()
            outcome.shared += 1
        } else {
            if let problem = try await verify(digest, size: size) {
                outcome.problem = problem
                return outcome
            }
            outcome.verifiedBytes = size ?? 0
            guard let size, let first = remaining.first else { return outcome }
            outcome.placed = true
            if dryRun { return outcome }
            outcome.linked = try await BlobUploads(blobs: blobs, metadata: metadata)
                .storeFile(at: tree.blobPath(digest), as: digest, size: size, in: first)
            remaining = remaining.dropFirst()
        }
        if dryRun { return outcome }
        for repository in remaining where try await metadata.mountBlobFromAnyRepository(digest, into: repository) {
            outcome.shared += 1
        }
        return outcome
    }

    /// Nil when the file hashes to its digest, else what is wrong.
    private func verify(_ digest: Digest, size: Int64?) async throws -> String? {
        guard let size else { return "missing blob" }
        let actual = try await FileChunks.digest(of: tree.blobPath(digest), size: size, algorithm: digest.algorithm)
        return actual.size == size && actual.digest == digest ? nil : "corrupt blob"
    }

    /// Images, then indexes (whose children must be there first), then tags.
    private func importManifests(_ source: Source, into report: inout ImportReport) async throws {
        let ordered = source.manifests.filter { $0.manifest.kind == .image } + source.manifests.filter { $0.manifest.kind == .index }
        var present = Set<Digest>()
        for (digest, manifest) in ordered {
            if try await metadata.manifest(.digest(digest), in: source.name) != nil {
                report.manifestsSkipped += 1
                present.insert(digest)
                continue
            }
            do {
                try await metadata.putManifest(manifest, in: source.name, tag: nil)
                report.manifestsImported += 1
                present.insert(digest)
            } catch let error as RegistryError {
                report.problems.append(.init(
                    kind: "manifest not imported", repository: source.name.value, reference: digest.description,
                    detail: "\(error.message)\(error.detail.map { ": \($0)" } ?? "")"))
            }
        }
        let byDigest = Dictionary(source.manifests.map { ($0.digest, $0.manifest) }, uniquingKeysWith: { a, _ in a })
        for (name, digest) in source.tags {
            guard let digest, let tag = try? Tag(name), let manifest = byDigest[digest], present.contains(digest) else {
                report.problems.append(.init(
                    kind: "dangling tag", repository: source.name.value, reference: name,
                    detail: digest.map { "names \($0), which was not imported" } ?? "unreadable link"))
                continue
            }
            try await metadata.putManifest(manifest, in: source.name, tag: tag)
            report.tagsImported += 1
        }
    }

    /// `repository@manifest (tags a, b)` for each manifest of `source` that needs `digest`.
    private func needing(_ digest: Digest, in source: Source) -> String {
        let users = source.manifests.filter { $0.manifest.blobReferences.contains { $0.digest == digest } }
        guard !users.isEmpty else { return "linked in the repository; no manifest needs it" }
        return "needed by " + users.map { user in
            let tags = source.tags.filter { $0.digest == user.digest }.map(\.tag)
            return "\(source.name.value)@\(user.digest)" + (tags.isEmpty ? "" : " (tags \(tags.joined(separator: ", ")))")
        }.joined(separator: "; ")
    }
}
