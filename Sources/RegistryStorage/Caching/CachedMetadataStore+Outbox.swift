import RegistryCore

/// The outbox passed through to the store behind the cache; writes invalidate as their
/// namesakes do. Over a store without an outbox, changes are made without their events and
/// the outbox reads as empty.
extension CachedMetadataStore: EventOutboxStore {
    private var outbox: (any EventOutboxStore)? { base as? any EventOutboxStore }

    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?, events: [RegistryEvent])
        async throws
    {
        guard let outbox else { return try await putManifest(manifest, in: repository, tag: tag) }
        try await invalidating(repository) { try await outbox.putManifest(manifest, in: repository, tag: tag, events: events) }
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName, events: [RegistryEvent]) async throws
        -> Bool
    {
        guard let outbox else { return try await deleteManifest(digest, in: repository) }
        return try await invalidating(repository) { try await outbox.deleteManifest(digest, in: repository, events: events) }
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool {
        guard let outbox else { return try await deleteTag(tag, in: repository) }
        return try await invalidating(repository) { try await outbox.deleteTag(tag, in: repository, events: events) }
    }

    public func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?, events: [RegistryEvent]
    ) async throws {
        guard let outbox else {
            return try await recordBlob(
                digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload)
        }
        try await outbox.recordBlob(
            digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload,
            events: events)
    }

    public func mountBlob(
        _ digest: Digest, from source: RepositoryName, into repository: RepositoryName, events: [RegistryEvent]
    ) async throws -> Bool {
        guard let outbox else { return try await mountBlob(digest, from: source, into: repository) }
        return try await outbox.mountBlob(digest, from: source, into: repository, events: events)
    }

    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName, events: [RegistryEvent])
        async throws -> Bool
    {
        guard let outbox else { return try await mountBlobFromAnyRepository(digest, into: repository) }
        return try await outbox.mountBlobFromAnyRepository(digest, into: repository, events: events)
    }

    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName, events: [RegistryEvent]) async throws
        -> Bool
    {
        guard let outbox else { return try await unlinkBlob(digest, from: repository) }
        return try await invalidating(repository) { try await outbox.unlinkBlob(digest, from: repository, events: events) }
    }

    public func appendEvents(_ events: [RegistryEvent]) async throws {
        try await outbox?.appendEvents(events)
    }

    public func claimOutbox(endpoint: String, owner: String, lease: Duration) async throws -> Bool {
        try await outbox?.claimOutbox(endpoint: endpoint, owner: owner, lease: lease) ?? false
    }

    public func outboxEvents(for endpoint: String, limit: Int) async throws -> [OutboxEntry] {
        try await outbox?.outboxEvents(for: endpoint, limit: limit) ?? []
    }

    public func acknowledgeOutbox(endpoint: String, owner: String, through sequence: Int64) async throws -> Bool {
        try await outbox?.acknowledgeOutbox(endpoint: endpoint, owner: owner, through: sequence) ?? false
    }

    public func outboxDepth(for endpoint: String) async throws -> Int {
        try await outbox?.outboxDepth(for: endpoint) ?? 0
    }

    public func pruneOutbox(endpoints: [String]) async throws -> Int {
        try await outbox?.pruneOutbox(endpoints: endpoints) ?? 0
    }
}
