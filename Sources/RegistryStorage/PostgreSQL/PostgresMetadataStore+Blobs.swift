import Foundation
import PostgresNIO
import RegistryCore

/// Blob rows, repository links, and the reservations that keep garbage collection away from
/// bytes being placed (see ``GarbageCollector`` and ``PostgresMetadataStore/sweep(_:)``).
extension PostgresMetadataStore {
    public func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64? {
        let read = PostgresHotReads.BlobSize(repository: repository.value, key: digest.description)
        return try await statement { connection in
            try await connection.execute(read, logger: self.logger).rows().first
        }
    }

    /// Under the shared lifecycle lock: a claim (exclusive) either committed before, and then
    /// this sees it and refuses, or comes after, and then it sees this reservation and skips
    /// the digest.
    public func reserveBlob(_ digest: Digest) async throws -> BlobReservation {
        let reservation = BlobReservation(token: UUID().uuidString.lowercased(), digest: digest)
        let lease = GarbageCollector.claimLease.inSeconds
        let lifetime = BlobReservation.lifetime.inSeconds
        try await transaction(.shared) { connection in
            try await Self.insertReservation(reservation, lease: lease, lifetime: lifetime, on: connection, logger: self.logger)
        }
        return reservation
    }

    /// Refused while a live claim holds the digest (rule 1 of ``GarbageCollector``); inside
    /// the caller's transaction, which holds the shared lifecycle lock.
    static func insertReservation(
        _ reservation: BlobReservation, lease: Double, lifetime: Double, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let digest = reservation.digest
        let claimed = try await !connection.query(
            """
            SELECT 1 FROM blob_deletion WHERE digest = \(digest.description) AND claimed_by IS NOT NULL
            AND claimed_at > \(unescaped: Self.now) - \(lease)
            """, logger: logger
        ).collect().isEmpty
        if claimed { throw BlobBeingDeleted(digest: digest) }
        try await connection.query(
            """
            INSERT INTO blob_reservation (token, digest, expires_at)
            VALUES (\(reservation.token), \(digest.description), \(unescaped: Self.now) + \(lifetime))
            """, logger: logger)
    }

    public func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?
    ) async throws {
        try await recordBlob(
            digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload, events: [])
    }

    public func recordBlob(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?, events: [RegistryEvent]
    ) async throws {
        let events = try RegistryEvent.encodedForOutbox(events)
        let lease = GarbageCollector.claimLease.inSeconds
        try await transaction(.shared) { connection in
            try await Self.insertBlobRow(
                digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload, lease: lease,
                on: connection, logger: self.logger)
            try await Self.appendOutbox(events, on: connection, logger: self.logger)
        }
    }

    /// The row, its link, the end of its reservation (which must be live: rule 2 of
    /// ``GarbageCollector``) and of any queued deletion, inside the caller's transaction.
    static func insertBlobRow(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?, lease: Double, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let live = try await !connection.query(
            """
            SELECT 1 FROM blob_reservation WHERE token = \(reservation.token) AND digest = \(digest.description)
            AND expires_at > \(unescaped: Self.now) FOR UPDATE
            """, logger: logger
        ).collect().isEmpty
        guard live else { throw Self.reservationExpired(digest) }
        try await connection.query(
            """
            INSERT INTO blob (digest, size, created_at) VALUES (\(digest.description), \(size), \(unescaped: Self.now))
            ON CONFLICT (digest) DO NOTHING
            """, logger: logger)
        guard let repositoryID = try await Self.repositoryID(repository, on: connection, create: true, logger: logger)
        else { throw RegistryError(.unknown, "repository row vanished during its own transaction") }
        try await Self.link(digest, into: repositoryID, on: connection, logger: logger)
        if let completingUpload {
            try await connection.query("DELETE FROM upload WHERE id = \(completingUpload)", logger: logger)
        }
        try await connection.query("DELETE FROM blob_reservation WHERE token = \(reservation.token)", logger: logger)
        // A queued deletion of these bytes is void now; so is a claim abandoned long ago.
        try await connection.query(
            """
            DELETE FROM blob_deletion WHERE digest = \(digest.description)
            AND (claimed_by IS NULL OR claimed_at <= \(unescaped: Self.now) - \(lease))
            """, logger: logger)
    }

    public func releaseReservation(_ reservation: BlobReservation) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM blob_reservation WHERE token = \(reservation.token)", logger: self.logger)
        }
    }

    public func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool {
        try await mountBlob(digest, from: source, into: repository, events: [])
    }

    public func mountBlob(
        _ digest: Digest, from source: RepositoryName, into repository: RepositoryName, events: [RegistryEvent]
    ) async throws -> Bool {
        try await linkIfVisible(
            digest, into: repository, events: events,
            visible: """
                SELECT 1 FROM repository_blob rb JOIN repository r ON r.id = rb.repository_id
                WHERE r.name = \(source.value) AND rb.digest = \(digest.description) FOR SHARE OF rb
                """)
    }

    /// For mounts without `from` (`berth.mount.anywhere`): any repository's link will do.
    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool {
        try await mountBlobFromAnyRepository(digest, into: repository, events: [])
    }

    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName, events: [RegistryEvent])
        async throws -> Bool
    {
        try await linkIfVisible(
            digest, into: repository, events: events,
            visible: "SELECT 1 FROM repository_blob WHERE digest = \(digest.description) LIMIT 1 FOR SHARE")
    }

    /// Links `digest` into `repository` when `visible` finds a link to copy, in one
    /// transaction; the link found is locked `FOR SHARE` so that no unlink removes it first.
    private func linkIfVisible(
        _ digest: Digest, into repository: RepositoryName, events: [RegistryEvent], visible: PostgresQuery
    ) async throws -> Bool {
        let events = try RegistryEvent.encodedForOutbox(events)
        return try await transaction(.shared) { connection in
            guard try await !connection.query(visible, logger: self.logger).collect().isEmpty else { return false }
            guard let repositoryID = try await Self.repositoryID(repository, on: connection, create: true, logger: self.logger)
            else { return false }
            try await Self.link(digest, into: repositoryID, on: connection, logger: self.logger)
            try await Self.appendOutbox(events, on: connection, logger: self.logger)
            return true
        }
    }

    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName) async throws -> Bool {
        try await unlinkBlob(digest, from: repository, events: [])
    }

    public func unlinkBlob(_ digest: Digest, from repository: RepositoryName, events: [RegistryEvent]) async throws
        -> Bool
    {
        let events = try RegistryEvent.encodedForOutbox(events)
        return try await transaction(.shared) { connection in
            let unlinked = try await !connection.query(
                """
                DELETE FROM repository_blob rb USING repository r
                WHERE r.id = rb.repository_id AND r.name = \(repository.value) AND rb.digest = \(digest.description)
                RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
            if unlinked { try await Self.appendOutbox(events, on: connection, logger: self.logger) }
            return unlinked
        }
    }

    static func reservationExpired(_ digest: Digest) -> RegistryError {
        RegistryError(
            .blobUploadInvalid, "the upload took too long to store its bytes; upload the blob again",
            detail: digest.description, condition: .retryLater)
    }
}
