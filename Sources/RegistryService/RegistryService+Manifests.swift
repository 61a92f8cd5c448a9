import RegistryCore
import RegistryStorage

/// What a manifest push stored.
public struct PushedManifest: Sendable, Equatable {
    public var digest: Digest
    public var subject: Digest?
}

extension RegistryService {
    /// A manifest by tag or digest. A reference that is neither a valid tag nor a valid digest
    /// names no manifest: `MANIFEST_UNKNOWN`, like one that is valid but absent.
    public func manifest(_ reference: String, in repository: RepositoryName) async throws -> StoredManifest {
        if let pullThrough, let parsed = try? Reference(parsing: reference),
            let route = try await pullThrough.route(for: repository)
        {
            return try await pullThrough.manifest(parsed, route: route)
        }
        guard let parsed = try? Reference(parsing: reference),
            let manifest = try await metadata.manifest(parsed, in: repository)
        else {
            throw RegistryError(.manifestUnknown, "manifest unknown", detail: String(reference.prefix(256)))
        }
        return manifest
    }

    /// Validates and stores a manifest; with a tag, points the tag at it. Every blob and child
    /// manifest it references must be in the repository already.
    public func pushManifest(
        _ bytes: [UInt8], contentType: String?, reference: String, in repository: RepositoryName
    ) async throws -> PushedManifest {
        try rules.requireWritable()
        try requirePrivate(repository)
        let reference = try Reference(parsing: reference)
        let algorithm: DigestAlgorithm
        if case .digest(let digest) = reference { algorithm = digest.algorithm } else { algorithm = .sha256 }
        var manifest = try Manifest(
            bytes: bytes, contentType: contentType, algorithm: algorithm, maximumSize: rules.manifestSizeLimit)
        if rules.allowNonDistributable, !manifest.externalLayers.isEmpty {
            manifest = try manifest.trustingExternalLayers()
        }
        var tag: Tag?
        switch reference {
        case .digest(let digest):
            guard digest == manifest.digest else {
                throw RegistryError(
                    .digestInvalid, "manifest digest does not match the reference",
                    detail: "reference \(digest), content \(manifest.digest)")
            }
        case .tag(let value):
            tag = value
        }
        if let notifier,
            let event = manifestEvent(
                .push, StoredManifest(digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes),
                tag: tag, in: repository)
        {
            try await notifier.outbox.putManifest(manifest, in: repository, tag: tag, events: [event])
        } else {
            try await metadata.putManifest(manifest, in: repository, tag: tag)
        }
        return PushedManifest(digest: manifest.digest, subject: manifest.subject?.digest)
    }

    /// By digest: the manifest and its tags. By tag: only the tag.
    public func deleteManifest(_ reference: String, in repository: RepositoryName) async throws {
        try rules.requireWritable()
        try requirePrivate(repository)
        let parsed = try Reference(parsing: reference)
        try rules.requireDelete()
        let deleted: Bool
        switch parsed {
        case .digest(let digest):
            if let notifier {
                // Distribution's manifest delete event: the repository and the digest only.
                let event = notifier.event(
                    .delete, .init(digest: digest.description, repository: repository.value), urlPath: nil)
                deleted = try await notifier.outbox.deleteManifest(digest, in: repository, events: [event])
            } else {
                deleted = try await metadata.deleteManifest(digest, in: repository)
            }
        case .tag(let tag):
            if let notifier {
                // Distribution's tag delete event: the repository and the tag only.
                let event = notifier.event(.delete, .init(repository: repository.value, tag: tag.value), urlPath: nil)
                deleted = try await notifier.outbox.deleteTag(tag, in: repository, events: [event])
            } else {
                deleted = try await metadata.deleteTag(tag, in: repository)
            }
        }
        guard deleted else {
            throw RegistryError(.manifestUnknown, "manifest unknown", detail: String(reference.prefix(256)))
        }
    }

    /// The largest manifest body a push may send.
    public var manifestSizeLimit: Int { rules.manifestSizeLimit }
}

extension RegistryService {
    /// Notes a client's pull of a manifest, by tag or by digest, for the ``PullRecorder`` to
    /// write later. Nothing is noted in read-only mode (recording is a write).
    public func notePull(_ reference: String, in repository: RepositoryName) {
        guard !rules.readOnly, let parsed = try? Reference(parsing: reference) else { return }
        pulls.note(parsed, in: repository)
        // A mirror's content pulled by its upstream name: also where it is cached (a name
        // that holds nothing is skipped when the pulls are written).
        if let cached = pullThrough?.defaultCacheName(of: repository) { pulls.note(parsed, in: cached) }
    }
}
