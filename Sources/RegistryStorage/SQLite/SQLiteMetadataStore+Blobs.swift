import Foundation
import GRDB
import RegistryCore

/// Blob rows, repository links, and the reservations that keep garbage collection away from
/// bytes being placed (see ``GarbageCollector``).
extension SQLiteMetadataStore {
    public func blobSize(_ digest: Digest, in repository: RepositoryName) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT b.size FROM repository r
                    JOIN repository_blob rb ON rb.repository_id = r.id
                    JOIN blob b ON b.digest = rb.digest
                    WHERE r.name = ? AND rb.digest = ?
                    """),
                arguments: [repository.value, digest.description])
        }
    }

    public func reserveBlob(_ digest: Digest) async throws -> BlobReservation {
        let reservation = BlobReservation(token: UUID().uuidString.lowercased(), digest: digest)
        let lease = GarbageCollector.claimLease.inSeconds
        try await lightWrite { db in
            try Self.insertReservation(reservation, now: Self.now, lease: lease, in: db)
        }
        return reservation
    }

    /// Refused while a live claim of garbage collection holds the digest (rule 1 of
    /// ``GarbageCollector``).
    static func insertReservation(_ reservation: BlobReservation, now: Double, lease: Double, in db: Database) throws {
        let claimed = try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT 1 FROM blob_deletion WHERE digest = ? AND claimed_by IS NOT NULL AND claimed_at > ?"),
            arguments: [reservation.digest.description, now - lease]) ?? false
        if claimed { throw BlobBeingDeleted(digest: reservation.digest) }
        try db.cachedStatement(sql: "INSERT INTO blob_reservation (token, digest, expires_at) VALUES (?, ?, ?)")
            .execute(arguments: [reservation.token, reservation.digest.description, now + BlobReservation.lifetime.inSeconds])
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
        try await write { db in
            let now = Self.now
            try Self.insertBlobRow(
                digest, size: size, in: repository, reservation: reservation, completingUpload: completingUpload,
                now: now, lease: lease, in: db)
            try Self.appendOutbox(events, in: db)
        }
    }

    /// The row, its link, the end of its reservation (which must be live: rule 2 of
    /// ``GarbageCollector``) and of any queued deletion, inside the caller's transaction.
    static func insertBlobRow(
        _ digest: Digest, size: Int64, in repository: RepositoryName, reservation: BlobReservation,
        completingUpload: String?, now: Double, lease: Double, in db: Database
    ) throws {
        let live = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM blob_reservation WHERE token = ? AND digest = ? AND expires_at > ?"),
            arguments: [reservation.token, digest.description, now]) ?? false
        guard live else { throw Self.reservationExpired(digest) }
        try db.cachedStatement(
            sql: "INSERT INTO blob (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT(digest) DO NOTHING"
        ).execute(arguments: [digest.description, size, now])
        let repositoryID = try Self.repositoryID(repository, in: db, create: true)
        try Self.link(digest, into: repositoryID, in: db, at: now)
        if let completingUpload {
            try db.cachedStatement(sql: "DELETE FROM upload WHERE id = ?").execute(arguments: [completingUpload])
        }
        try db.cachedStatement(sql: "DELETE FROM blob_reservation WHERE token = ?").execute(arguments: [reservation.token])
        // A queued deletion of these bytes is void now; so is a claim abandoned long ago.
        try db.cachedStatement(
            sql: "DELETE FROM blob_deletion WHERE digest = ? AND (claimed_by IS NULL OR claimed_at <= ?)"
        ).execute(arguments: [digest.description, now - lease])
    }

    public func releaseReservation(_ reservation: BlobReservation) async throws {
        try await lightWrite { db in
            try db.execute(sql: "DELETE FROM blob_reservation WHERE token = ?", arguments: [reservation.token])
        }
    }

    public func mountBlob(_ digest: Digest, from source: RepositoryName, into repository: RepositoryName) async throws -> Bool {
        try await mountBlob(digest, from: source, into: repository, events: [])
    }

    public func mountBlob(
        _ digest: Digest, from source: RepositoryName, into repository: RepositoryName, events: [RegistryEvent]
    ) async throws -> Bool {
        try await linkIfVisible(digest, into: repository, events: events) { db in
            guard let sourceID = try Self.repositoryID(source, in: db, create: false) else { return false }
            return try Bool.fetchOne(
                db, sql: "SELECT 1 FROM repository_blob WHERE repository_id = ? AND digest = ?",
                arguments: [sourceID, digest.description]) != nil
        }
    }

    /// For mounts without `from` (`berth.mount.anywhere`): any repository's link will do.
    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName) async throws -> Bool {
        try await mountBlobFromAnyRepository(digest, into: repository, events: [])
    }

    public func mountBlobFromAnyRepository(_ digest: Digest, into repository: RepositoryName, events: [RegistryEvent])
        async throws -> Bool
    {
        try await linkIfVisible(digest, into: repository, events: events) { db in
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM repository_blob WHERE digest = ? LIMIT 1", arguments: [digest.description]) != nil
        }
    }

    /// Links `digest` into `repository` when `visible` says the blob may be linked, in one transaction.
    private func linkIfVisible(
        _ digest: Digest, into repository: RepositoryName, events: [RegistryEvent],
        visible: @escaping @Sendable (Database) throws -> Bool
    ) async throws -> Bool {
        let events = try RegistryEvent.encodedForOutbox(events)
        return try await write { db in
            guard try visible(db) else { return false }
            let repositoryID = try Self.repositoryID(repository, in: db, create: true)
            try Self.link(digest, into: repositoryID, in: db, at: Self.now)
            try Self.appendOutbox(events, in: db)
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
        return try await write { db in
            guard let repositoryID = try Self.repositoryID(repository, in: db, create: false) else { return false }
            try db.execute(
                sql: "DELETE FROM repository_blob WHERE repository_id = ? AND digest = ?",
                arguments: [repositoryID, digest.description])
            guard db.changesCount > 0 else { return false }
            try Self.appendOutbox(events, in: db)
            return true
        }
    }

    static func reservationExpired(_ digest: Digest) -> RegistryError {
        RegistryError(
            .blobUploadInvalid, "the upload took too long to store its bytes; upload the blob again",
            detail: digest.description, condition: .retryLater)
    }
}
