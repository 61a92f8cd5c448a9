import Foundation
import GRDB
import RegistryCore

/// The batch calls of a bulk import, each one transaction: the same statements as the single
/// calls (so the same rules of ``GarbageCollector``), one commit for the whole batch.
extension SQLiteMetadataStore {
    /// One transaction without an fsync, as ``reserveBlob(_:)``; refused as a whole (nothing
    /// reserved) when garbage collection is deleting any of the digests.
    public func reserveBlobs(_ digests: [Digest]) async throws -> [BlobReservation] {
        let reservations = digests.map { BlobReservation(token: UUID().uuidString.lowercased(), digest: $0) }
        guard !reservations.isEmpty else { return [] }
        let lease = GarbageCollector.claimLease.inSeconds
        try await lightWrite { db in
            let now = Self.now
            for reservation in reservations {
                try Self.insertReservation(reservation, now: now, lease: lease, in: db)
            }
        }
        return reservations
    }

    /// One durable transaction; when any reservation has expired, none of the batch is
    /// recorded (the caller releases the reservations and the next run retries).
    public func recordBlobs(_ records: [BlobRecord]) async throws {
        guard !records.isEmpty else { return }
        let lease = GarbageCollector.claimLease.inSeconds
        try await write { db in
            let now = Self.now
            for record in records {
                guard let first = record.repositories.first else {
                    try db.cachedStatement(sql: "DELETE FROM blob_reservation WHERE token = ?")
                        .execute(arguments: [record.reservation.token])
                    continue
                }
                try Self.insertBlobRow(
                    record.digest, size: record.size, in: first, reservation: record.reservation, completingUpload: nil,
                    now: now, lease: lease, in: db)
                for repository in record.repositories.dropFirst() {
                    try Self.link(record.digest, into: try Self.repositoryID(repository, in: db, create: true), in: db, at: now)
                }
            }
        }
    }

    /// One durable transaction; each put in a savepoint, so a refused one leaves no trace and
    /// the others are stored.
    public func putManifests(_ puts: [ManifestPut], in repository: RepositoryName) async throws -> [RegistryError?] {
        guard !puts.isEmpty else { return [] }
        return try await write { db in
            let now = Self.now
            return try puts.map { put -> RegistryError? in
                do {
                    try db.inSavepoint {
                        try Self.insertManifest(put.manifest, in: repository, tag: put.tag, now: now, in: db)
                        return .commit
                    }
                    return nil
                } catch let refusal as RegistryError {
                    return refusal
                }
            }
        }
    }
}
