import Foundation
import RegistryCore

/// Copies a registry from one pair of stores into another (filesystem and SQLite to S3 and
/// PostgreSQL, or back, or any pair ``RegistryStores/open(_:)`` opens): every repository's
/// blob links, manifests (each after the manifests it names) and tags.
///
/// The source is only read, so registryd may serve from it meanwhile; what is pushed to it
/// during the copy is picked up by the next run. Everything lands in the destination through
/// the calls a push makes (``BlobUploads/storeFile(at:as:size:in:)``, ``MetadataStore/putManifest(_:in:tag:)``),
/// so the destination's rules hold (reservations against gc, manifests checked against their
/// blobs), and a run cut short is completed by the next, which skips what is there already.
/// Every blob is re-hashed on the way; a blob that does not match its digest is reported with
/// the manifests and tags that need it, and everything else is still copied.
public struct StoreMigration: Sendable {
    public let source: RegistryStores
    public let destination: RegistryStores
    /// Where blobs from a store that is not a directory are spooled on their way.
    public let spoolDirectory: String

    public init(from source: RegistryStores, to destination: RegistryStores, spoolDirectory: String) {
        self.source = source
        self.destination = destination
        self.spoolDirectory = spoolDirectory
    }

    /// Blobs copied at once: each waits on its own reads, fsyncs and requests, which overlap.
    static let concurrency = 4

    public func run(dryRun: Bool, progress: @Sendable (ImportProgress) -> Void = { _ in }) async throws -> MigrationReport {
        let start = ContinuousClock.now
        var report = MigrationReport(dryRun: dryRun)
        var repositories: [(name: RepositoryName, contents: RepositoryContents)] = []
        for name in try await allRepositories() {
            guard let repository = try? RepositoryName(name) else {
                report.problems.append(.init(kind: "bad name", repository: name, reference: "", detail: "not a valid repository name"))
                continue
            }
            // Nil when the repository went away since the listing (deleted while the source serves).
            guard let contents = try await source.metadata.contents(of: repository) else { continue }
            repositories.append((repository, contents))
        }
        report.repositories = repositories.count
        let bad = try await copyBlobs(repositories, dryRun: dryRun, into: &report, progress: progress)
        for (repository, contents) in repositories {
            for (digest, refusal) in bad.sorted(by: { $0.key < $1.key })
            where contents.blobs.contains(where: { $0.digest == digest }) {
                report.problems.append(.init(
                    kind: refusal.kind, repository: repository.value, reference: digest.description,
                    detail: refusal.detail + "; " + (try await needing(digest, in: repository, contents))))
            }
            try await copyManifests(repository, contents, dryRun: dryRun, into: &report)
        }
        if !dryRun, report.blobsCopied + report.blobsShared + report.manifestsCopied + report.tagsCopied > 0 {
            try await destination.changes.announce()
        }
        report.seconds = (ContinuousClock.now - start).inSeconds
        return report
    }

    private func allRepositories() async throws -> [String] {
        var names: [String] = []
        while true {
            let page = try await source.metadata.repositories(after: names.last, limit: 1000)
            names += page
            if page.count < 1000 { return names }
        }
    }

    // MARK: Blobs

    /// Copies every blob link the destination lacks, each distinct blob read once. Returns the
    /// blobs that could not be read as recorded.
    private func copyBlobs(
        _ repositories: [(name: RepositoryName, contents: RepositoryContents)], dryRun: Bool,
        into report: inout MigrationReport, progress: @Sendable (ImportProgress) -> Void
    ) async throws -> [Digest: SourceBlob.Refusal] {
        var wanted: [Digest: (size: Int64, repositories: [RepositoryName])] = [:]
        for (repository, contents) in repositories {
            for blob in contents.blobs {
                if try await destination.metadata.blobSize(blob.digest, in: repository) != nil {
                    report.blobsSkipped += 1
                } else {
                    wanted[blob.digest, default: (blob.size, [])].repositories.append(repository)
                }
            }
        }
        var state = ImportProgress(
            blobsDone: 0, blobsTotal: wanted.count, bytesDone: 0, bytesTotal: wanted.values.map(\.size).reduce(0, +))
        progress(state)
        var bad: [Digest: SourceBlob.Refusal] = [:]
        try await withThrowingTaskGroup(of: BlobOutcome.self) { group in
            var pending = wanted.sorted { $0.key < $1.key }[...]
            func startNext() {
                guard let (digest, entry) = pending.popFirst() else { return }
                group.addTask { try await self.bring(digest, size: entry.size, into: entry.repositories, dryRun: dryRun) }
            }
            for _ in 0..<Self.concurrency { startNext() }
            while let outcome = try await group.next() {
                if let refusal = outcome.refusal { bad[outcome.digest] = refusal }
                report.bytesVerified += outcome.verifiedBytes
                if outcome.placed {
                    report.blobsCopied += 1
                    report.bytesCopied += outcome.size
                }
                if outcome.linked { report.blobsLinked += 1 }
                report.blobsShared += outcome.shared
                state.blobsDone += 1
                state.bytesDone += outcome.size
                progress(state)
                startNext()
            }
        }
        return bad
    }

    private struct BlobOutcome: Sendable {
        var digest: Digest
        var size: Int64
        var verifiedBytes: Int64 = 0
        var placed = false
        var linked = false
        var shared = 0
        var refusal: SourceBlob.Refusal?
    }

    /// Links one blob into every repository that needs it, copying its bytes first unless the
    /// destination has them already (another repository's, a run cut short, or a bucket or
    /// directory the two configurations share, when only the metadata moves).
    private func bring(
        _ digest: Digest, size: Int64, into repositories: [RepositoryName], dryRun: Bool
    ) async throws -> BlobOutcome {
        var outcome = BlobOutcome(digest: digest, size: size)
        var remaining = repositories[...]
        guard let first = remaining.first else { return outcome }
        let bytesThere = try await destination.blobs.size(of: digest) != nil
        if bytesThere, dryRun ? true : try await destination.metadata.mountBlobFromAnyRepository(digest, into: first) {
            remaining = remaining.dropFirst()
            outcome.shared += 1
        } else {
            let reader = SourceBlob(blobs: source.blobs, spoolDirectory: spoolDirectory)
            let verified: SourceBlob.Verified?
            do {
                verified = try await reader.verify(digest, size: size, keep: !dryRun)
            } catch {
                outcome.refusal = error
                return outcome
            }
            outcome.verifiedBytes = size
            // Bytes already there without a row are recorded, not copied again.
            outcome.placed = !bytesThere
            if bytesThere { outcome.shared += 1 }
            guard let verified else { return outcome }
            defer { verified.remove() }
            let linked = try await BlobUploads(blobs: destination.blobs, metadata: destination.metadata)
                .storeFile(at: verified.path, as: digest, size: size, in: first)
            outcome.linked = linked && !bytesThere
            remaining = remaining.dropFirst()
        }
        for repository in remaining {
            let mounted = dryRun ? true : try await destination.metadata.mountBlobFromAnyRepository(digest, into: repository)
            if mounted { outcome.shared += 1 }
        }
        return outcome
    }

    /// `repository@manifest (tags a, b)` for each manifest of the repository that needs `digest`.
    private func needing(_ digest: Digest, in repository: RepositoryName, _ contents: RepositoryContents) async throws
        -> String
    {
        var users: [String] = []
        for manifest in contents.manifests {
            guard let stored = try await source.metadata.manifest(.digest(manifest), in: repository),
                let parsed = try? Self.manifest(stored, linked: []),
                parsed.blobReferences.contains(where: { $0.digest == digest })
            else { continue }
            let tags = contents.tags.filter { $0.digest == manifest }.map(\.name)
            users.append("\(repository.value)@\(manifest)" + (tags.isEmpty ? "" : " (tags \(tags.joined(separator: ", ")))"))
        }
        return users.isEmpty ? "linked in the repository; no manifest needs it" : "needed by " + users.joined(separator: "; ")
    }
}
