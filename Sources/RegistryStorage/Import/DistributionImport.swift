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
/// same store rules a push follows, in batches (see ``checkBatch(_:sizes:dryRun:)``). So it
/// runs while registryd serves, and a run cut short is completed by the next, which skips what
/// is already there. The tree is only read.
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
        var pending = wanted.sorted { $0.key < $1.key }[...]
        // Counts a batch once it is placed and recorded.
        func account(_ outcomes: [BlobOutcome]) {
            for outcome in outcomes {
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
            }
        }
        // Two batches in flight: one hashed while the one before is placed, synced and recorded.
        var checked: [BlobOutcome]?
        while !pending.isEmpty {
            var batch: [(digest: Digest, repositories: [RepositoryName])] = []
            var batchBytes: Int64 = 0
            while let (digest, repositories) = pending.first {
                let size = (sizes[digest] ?? nil) ?? 0
                guard batch.isEmpty || (batch.count < Self.batchBlobs && batchBytes + size <= Self.batchBytes) else { break }
                batch.append((digest, repositories))
                batchBytes += size
                pending = pending.dropFirst()
            }
            async let next = checkBatch(batch, sizes: sizes, dryRun: dryRun)
            if let previous = checked { account(try await placeBatch(previous, dryRun: dryRun)) }
            checked = try await next
        }
        if let previous = checked { account(try await placeBatch(previous, dryRun: dryRun)) }
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

    /// Blobs verified at once.
    static let concurrency = 8
    /// Blobs placed, made durable and recorded together: one `syncfs` and one commit per batch
    /// instead of an fsync of each file, of its folder and of each row.
    static let batchBlobs = 256
    static let batchBytes: Int64 = 256 << 20

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
        /// Verified, to be placed and recorded in these repositories (the first records it).
        var recordIn: [RepositoryName] = []
        /// Its bytes were in the store already (a run cut short): recorded, not placed again.
        var present = false
    }

    /// One batch, first half: each blob checked and verified (several at once); then
    /// ``placeBatch(_:dryRun:)`` reserves those to place together, places them together, makes
    /// them durable together, and records them together.
    ///
    /// Why this keeps the guarantees of one-at-a-time ``BlobUploads/storeFile(at:as:size:in:)``
    /// (see ``GarbageCollector`` for the rules):
    /// - Every digest is reserved (one transaction) before any of its bytes are placed, so a
    ///   collector never deletes bytes this batch is about to record; a collector that is
    ///   deleting one of them makes the batch fall back to one blob at a time, each waiting
    ///   as a push does.
    /// - The rows are committed (one transaction, each requiring its live reservation) only
    ///   after ``BlobFileImporting/importFiles(_:)`` has returned, that is after the bytes of
    ///   every blob of the batch are durable. No row ever names bytes that a crash could lose.
    /// - A kill -9 mid-batch leaves at most placed files that no row names (garbage collection
    ///   removes them after its grace period; the next import records them) and reservations
    ///   that expire; never a row naming missing bytes. A second run re-checks what the store
    ///   has and completes the import.
    private func checkBatch(
        _ batch: [(digest: Digest, repositories: [RepositoryName])], sizes: [Digest: Int64?], dryRun: Bool
    ) async throws -> [BlobOutcome] {
        var outcomes: [Digest: BlobOutcome] = [:]
        try await withThrowingTaskGroup(of: BlobOutcome.self) { group in
            var queue = batch[...]
            func startNext() {
                guard let (digest, repositories) = queue.popFirst() else { return }
                let size = sizes[digest] ?? nil
                group.addTask { try await self.check(digest, size: size, into: repositories, dryRun: dryRun) }
            }
            for _ in 0..<Self.concurrency { startNext() }
            while let outcome = try await group.next() {
                outcomes[outcome.digest] = outcome
                startNext()
            }
        }
        return batch.compactMap { outcomes[$0.digest] }
    }

    /// The second half of a batch (see ``checkBatch(_:sizes:dryRun:)``): the verified blobs
    /// placed, made durable and recorded together.
    private func placeBatch(_ checked: [BlobOutcome], dryRun: Bool) async throws -> [BlobOutcome] {
        var ordered = checked
        let toPlace = ordered.indices.filter { !ordered[$0].recordIn.isEmpty }
        if !dryRun && !toPlace.isEmpty {
            let linked = try await place(toPlace.map { ordered[$0] })
            for (index, wasLinked) in zip(toPlace, linked) {
                ordered[index].linked = wasLinked && !ordered[index].present
                ordered[index].shared += ordered[index].recordIn.count - 1
            }
        }
        return ordered
    }

    /// Links a blob the store has already into its repositories; otherwise verifies it and
    /// says where to record it once placed.
    private func check(_ digest: Digest, size: Int64?, into repositories: [RepositoryName], dryRun: Bool) async throws
        -> BlobOutcome
    {
        var outcome = BlobOutcome(digest: digest, size: size ?? 0)
        if !dryRun, let first = repositories.first, try await blobs.size(of: digest) != nil {
            if try await metadata.mountBlobFromAnyRepository(digest, into: first) {
                outcome.shared += 1
                for repository in repositories.dropFirst()
                where try await metadata.mountBlobFromAnyRepository(digest, into: repository) {
                    outcome.shared += 1
                }
                return outcome
            }
            outcome.present = true
        }
        if let problem = try await verify(digest, size: size) {
            outcome.problem = problem
            return outcome
        }
        outcome.verifiedBytes = size ?? 0
        guard size != nil, !repositories.isEmpty else { return outcome }
        outcome.placed = true
        outcome.recordIn = repositories
        return outcome
    }

    /// Reserves, places, makes durable and records verified blobs as one batch (see
    /// ``checkBatch(_:sizes:dryRun:)`` for why this order is safe). Returns for each whether
    /// it was hard-linked.
    private func place(_ outcomes: [BlobOutcome]) async throws -> [Bool] {
        let reservations: [BlobReservation]
        do {
            reservations = try await metadata.reserveBlobs(outcomes.map(\.digest))
        } catch is BlobBeingDeleted {
            return try await placeOneByOne(outcomes)
        }
        do {
            let linked: [Bool]
            if let importing = blobs as? any BlobFileImporting {
                linked = try await importing.importFiles(
                    outcomes.map { FileToImport(path: tree.blobPath($0.digest), digest: $0.digest, size: $0.size) })
            } else {
                // Each copy is durable on its own (an upload's commit); several at once.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var queue = outcomes.filter { !$0.present }[...]
                    func startNext() {
                        guard let outcome = queue.popFirst() else { return }
                        group.addTask {
                            try await blobs.importFileByCopy(at: tree.blobPath(outcome.digest), as: outcome.digest, size: outcome.size)
                        }
                    }
                    for _ in 0..<Self.concurrency { startNext() }
                    while try await group.next() != nil { startNext() }
                }
                linked = outcomes.map { _ in false }
            }
            try await metadata.recordBlobs(
                zip(outcomes, reservations).map { outcome, reservation in
                    BlobRecord(digest: outcome.digest, size: outcome.size, repositories: outcome.recordIn, reservation: reservation)
                })
            return linked
        } catch {
            try? await metadata.releaseReservations(reservations)
            throw error
        }
    }

    /// A collector is deleting one of the batch's digests: each blob on its own, reserved
    /// with the patience of a push.
    private func placeOneByOne(_ outcomes: [BlobOutcome]) async throws -> [Bool] {
        var linked: [Bool] = []
        for outcome in outcomes {
            guard let first = outcome.recordIn.first else { continue }
            linked.append(
                try await BlobUploads(blobs: blobs, metadata: metadata)
                    .storeFile(at: tree.blobPath(outcome.digest), as: outcome.digest, size: outcome.size, in: first))
            for repository in outcome.recordIn.dropFirst() {
                _ = try await metadata.mountBlobFromAnyRepository(outcome.digest, into: repository)
            }
        }
        return linked
    }

    /// Nil when the file hashes to its digest, else what is wrong.
    private func verify(_ digest: Digest, size: Int64?) async throws -> String? {
        guard let size else { return "missing blob" }
        let actual = try await FileChunks.digest(of: tree.blobPath(digest), size: size, algorithm: digest.algorithm)
        return actual.size == size && actual.digest == digest ? nil : "corrupt blob"
    }

    /// Manifests and tags stored per transaction: one commit (one fsync) for each.
    static let manifestBatch = 256

    /// Images, then indexes (whose children must be there first), then tags, in batches
    /// (``MetadataStore/putManifests(_:in:)``: in order, each put sees the ones before it).
    /// Only rows go in here: every blob a manifest needs was recorded durably before.
    private func importManifests(_ source: Source, into report: inout ImportReport) async throws {
        let ordered = source.manifests.filter { $0.manifest.kind == .image } + source.manifests.filter { $0.manifest.kind == .index }
        var present = Set<Digest>()
        var missing: [(digest: Digest, manifest: Manifest)] = []
        for (digest, manifest) in ordered {
            if try await metadata.manifest(.digest(digest), in: source.name) != nil {
                report.manifestsSkipped += 1
                present.insert(digest)
            } else {
                missing.append((digest, manifest))
            }
        }
        for start in stride(from: 0, to: missing.count, by: Self.manifestBatch) {
            let chunk = missing[start..<min(start + Self.manifestBatch, missing.count)]
            let refusals = try await metadata.putManifests(
                chunk.map { ManifestPut(manifest: $0.manifest, tag: nil) }, in: source.name)
            for ((digest, _), refusal) in zip(chunk, refusals) {
                if let error = refusal {
                    report.problems.append(.init(
                        kind: "manifest not imported", repository: source.name.value, reference: digest.description,
                        detail: "\(error.message)\(error.detail.map { ": \($0)" } ?? "")"))
                } else {
                    report.manifestsImported += 1
                    present.insert(digest)
                }
            }
        }
        let byDigest = Dictionary(source.manifests.map { ($0.digest, $0.manifest) }, uniquingKeysWith: { a, _ in a })
        var tags: [ManifestPut] = []
        for (name, digest) in source.tags {
            guard let digest, let tag = try? Tag(name), let manifest = byDigest[digest], present.contains(digest) else {
                report.problems.append(.init(
                    kind: "dangling tag", repository: source.name.value, reference: name,
                    detail: digest.map { "names \($0), which was not imported" } ?? "unreadable link"))
                continue
            }
            tags.append(ManifestPut(manifest: manifest, tag: tag))
        }
        for start in stride(from: 0, to: tags.count, by: Self.manifestBatch) {
            let refusals = try await metadata.putManifests(
                Array(tags[start..<min(start + Self.manifestBatch, tags.count)]), in: source.name)
            // A tag of a manifest just stored cannot be refused; if it is, the import fails as before.
            if let refusal = refusals.compactMap({ $0 }).first { throw refusal }
            report.tagsImported += refusals.count
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
