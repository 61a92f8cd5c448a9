import RegistryCore
import RegistryStorage

/// The events of pushes, pulls, mounts and deletes, as Distribution's notification bridge
/// makes them (`notifications/bridge.go`): what each carries in its target follows it.
extension RegistryService {
    /// This service, also writing events for `notifications.endpoints`. Unchanged when the
    /// metadata store keeps no outbox.
    public func notifying(source: RegistryEvent.Source, recordsPulls: Bool = true) -> RegistryService {
        guard let outbox = metadata as? any EventOutboxStore else { return self }
        var copy = self
        copy.notifier = EventNotifier(source: source, outbox: outbox, recordsPulls: recordsPulls)
        return copy
    }

    /// Distribution's media type for blobs in events.
    static let blobEventMediaType = "application/octet-stream"

    func manifestEvent(_ action: RegistryEvent.Action, _ manifest: StoredManifest, tag: Tag?, in repository: RepositoryName)
        -> RegistryEvent?
    {
        notifier?.event(
            action,
            .init(
                mediaType: manifest.mediaType, digest: manifest.digest.description, size: Int64(manifest.bytes.count),
                repository: repository.value, tag: tag?.value),
            urlPath: "/v2/\(repository.value)/manifests/\(manifest.digest)")
    }

    func blobEvent(
        _ action: RegistryEvent.Action, _ digest: Digest, size: Int64?, in repository: RepositoryName,
        from source: RepositoryName? = nil
    ) -> RegistryEvent? {
        notifier?.event(
            action,
            .init(
                mediaType: Self.blobEventMediaType, digest: digest.description, size: size, repository: repository.value,
                fromRepository: source?.value),
            urlPath: "/v2/\(repository.value)/blobs/\(digest)")
    }

    /// Notes the pull of a manifest for its event (the pull time is noted by ``notePull(_:in:)``).
    public func notePulledManifest(_ manifest: StoredManifest, reference: String, in repository: RepositoryName) {
        guard let notifier else { return }
        let tag: Tag? = if case .tag(let tag) = try? Reference(parsing: reference) { tag } else { nil }
        if let event = manifestEvent(.pull, manifest, tag: tag, in: repository) { notifier.notePull(event) }
    }

    /// Notes the pull of a blob (a GET that sends its bytes) for its event.
    public func notePulledBlob(_ digest: Digest, size: Int64, in repository: RepositoryName) {
        guard let notifier, let event = blobEvent(.pull, digest, size: size, in: repository) else { return }
        notifier.notePull(event)
    }
}
