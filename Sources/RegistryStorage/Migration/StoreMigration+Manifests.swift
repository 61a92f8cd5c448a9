import RegistryCore

extension StoreMigration {
    /// Stores the repository's manifests the destination lacks, each after the manifests it
    /// names, then points every tag where the source points it, the least recently pushed
    /// first (the destination stamps each with the time it is set, so their order holds).
    func copyManifests(
        _ repository: RepositoryName, _ contents: RepositoryContents, dryRun: Bool, into report: inout MigrationReport
    ) async throws {
        let linked = Set(contents.blobs.map(\.digest))
        let held = Set(contents.manifests)
        var parsed: [Digest: Manifest] = [:]
        var deferred = Set<Digest>()
        for digest in contents.manifests {
            do {
                guard let stored = try await source.metadata.manifest(.digest(digest), in: repository) else { continue }
                let manifest = try Self.manifest(stored, linked: linked)
                // A pull-through cache's manifest, stored before its blobs and children came
                // from the upstream (or after fsck forgot blobs whose bytes were lost): the
                // source holds it without them, and so will the destination.
                if manifest.requiredBlobs.contains(where: { !linked.contains($0.digest) })
                    || manifest.requiredChildren.contains(where: { !held.contains($0.digest) })
                {
                    parsed[digest] = manifest.fetchingReferencesLater()
                    deferred.insert(digest)
                } else {
                    parsed[digest] = manifest
                }
            } catch let error as RegistryError {
                report.problems.append(.init(
                    kind: "invalid manifest", repository: repository.value, reference: digest.description,
                    detail: Self.describe(error)))
            }
        }
        let order = ManifestOrder.sorted(contents.manifests.filter { parsed[$0] != nil }) { digest in
            guard let manifest = parsed[digest] else { return [] }
            return manifest.children.map(\.digest) + (manifest.subject.map { [$0.digest] } ?? [])
        }
        var present = Set<Digest>()
        for digest in order {
            guard let manifest = parsed[digest] else { continue }
            if try await destination.metadata.manifest(.digest(digest), in: repository) != nil {
                report.manifestsSkipped += 1
                present.insert(digest)
                continue
            }
            if !dryRun {
                do {
                    try await destination.metadata.putManifest(manifest, in: repository, tag: nil)
                } catch let error as RegistryError {
                    report.problems.append(.init(
                        kind: "manifest not copied", repository: repository.value, reference: digest.description,
                        detail: Self.describe(error) + Self.tagged(digest, contents)))
                    continue
                }
            }
            report.manifestsCopied += 1
            if deferred.contains(digest) { report.manifestsWithoutContent += 1 }
            present.insert(digest)
        }
        for tag in contents.tags.sorted(by: { ($0.pushedAt, $0.name) < ($1.pushedAt, $1.name) }) {
            guard let name = try? Tag(tag.name), let manifest = parsed[tag.digest], present.contains(tag.digest) else {
                report.problems.append(.init(
                    kind: "tag not copied", repository: repository.value, reference: tag.name,
                    detail: "names \(tag.digest), which was not copied"))
                continue
            }
            if try await destination.metadata.manifest(.tag(name), in: repository)?.digest == tag.digest {
                report.tagsSkipped += 1
                continue
            }
            if !dryRun { try await destination.metadata.putManifest(manifest, in: repository, tag: name) }
            report.tagsCopied += 1
        }
    }

    /// The stored manifest as the destination must take it, its bytes re-hashed. Layers with
    /// `urls` that the repository never held were accepted as external by the source; they
    /// are not required of the destination either.
    static func manifest(_ stored: StoredManifest, linked: Set<Digest>) throws(RegistryError) -> Manifest {
        let manifest = try Manifest(
            bytes: stored.bytes, contentType: stored.mediaType, algorithm: stored.digest.algorithm,
            maximumSize: max(stored.bytes.count, Manifest.maximumSize))
        guard manifest.digest == stored.digest else {
            throw RegistryError(.digestInvalid, "the stored bytes hash to \(manifest.digest)")
        }
        if manifest.layers.contains(where: { !$0.urls.isEmpty && !linked.contains($0.digest) }) {
            return try manifest.trustingExternalLayers()
        }
        return manifest
    }

    static func describe(_ error: RegistryError) -> String {
        "\(error.message)\(error.detail.map { ": \($0)" } ?? "")"
    }

    private static func tagged(_ digest: Digest, _ contents: RepositoryContents) -> String {
        let tags = contents.tags.filter { $0.digest == digest }.map(\.name)
        return tags.isEmpty ? "" : " (tags \(tags.joined(separator: ", ")))"
    }
}
