import Foundation
import RegistryCore

/// An event in the outbox and its place in the outbox's order.
public struct OutboxEntry: Sendable, Equatable {
    /// Increases in commit order: every event committed after another has a larger one.
    public var sequence: Int64
    public var event: RegistryEvent

    public init(sequence: Int64, event: RegistryEvent) {
        self.sequence = sequence
        self.event = event
    }
}

/// A metadata store that keeps an outbox of ``RegistryEvent``s for the notification
/// endpoints: each change's events are written in the change's own transaction, so that an
/// event is recorded exactly when its change is, whatever crashes or fails afterwards.
///
/// A separate protocol rather than new requirements on ``MetadataStore``, so that every
/// other store and caller stays as it is; the `events:` variants do what their namesakes
/// on ``MetadataStore`` do, plus the outbox rows (none when the change did nothing: a delete
/// of what was not there, a mount that could not be made).
///
/// Delivery reads the outbox per endpoint after that endpoint's cursor, and moves the cursor
/// only after the endpoint accepted the events. A lease on the endpoint's cursor row lets one
/// process deliver to an endpoint at a time when several share the database.
public protocol EventOutboxStore: Sendable {
    func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?, events: [RegistryEvent]) async throws
    func deleteManifest(_ digest: Digest, in repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool
    func deleteTag(_ tag: Tag, in repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool
    func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?, events: [RegistryEvent]
    ) async throws
    func mountBlob(
        _ digest: Digest, from source: RepositoryName, into repository: RepositoryName, events: [RegistryEvent]
    ) async throws -> Bool
    func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName, events: [RegistryEvent])
        async throws -> Bool
    func unlinkBlob(_ digest: Digest, from repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool

    /// Writes events that belong to no change (pulls), in one transaction.
    func appendEvents(_ events: [RegistryEvent]) async throws

    /// Takes or renews the lease on `endpoint`'s cursor for `owner` until `lease` from now.
    /// False while another owner's lease holds. Creates the cursor (at the outbox's start) the
    /// first time an endpoint is claimed.
    func claimOutbox(endpoint: String, owner: String, lease: Duration) async throws -> Bool
    /// Up to `limit` events after `endpoint`'s cursor, in order.
    func outboxEvents(for endpoint: String, limit: Int) async throws -> [OutboxEntry]
    /// Moves `endpoint`'s cursor to `sequence` if `owner` still holds its lease.
    func acknowledgeOutbox(endpoint: String, owner: String, through sequence: Int64) async throws -> Bool
    /// Events after `endpoint`'s cursor (all events when it has none yet).
    func outboxDepth(for endpoint: String) async throws -> Int
    /// Deletes the events that every one of `endpoints` has passed; returns how many.
    func pruneOutbox(endpoints: [String]) async throws -> Int
}

extension RegistryEvent {
    /// Events as the outbox stores them, encoded before a transaction begins.
    static func encodedForOutbox(_ events: [RegistryEvent]) throws -> [(id: String, json: String)] {
        try events.map { ($0.id, String(decoding: try $0.encoded(), as: UTF8.self)) }
    }
}
