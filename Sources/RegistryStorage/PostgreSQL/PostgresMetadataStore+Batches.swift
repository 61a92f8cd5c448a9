import Foundation
import PostgresNIO
import RegistryCore

/// The batch calls of a bulk import, each one transaction under the shared lifecycle lock:
/// the same statements as the single calls (so the same rules of ``GarbageCollector``), one
/// commit for the whole batch.
extension PostgresMetadataStore {
    /// Refused as a whole (nothing reserved) when garbage collection is deleting any of the digests.
    public func reserveBlobs(_ digests: [Digest]) async throws -> [BlobReservation] {
        let reservations = digests.map { BlobReservation(token: UUID().uuidString.lowercased(), digest: $0) }
        guard !reservations.isEmpty else { return [] }
        let lease = GarbageCollector.claimLease.inSeconds
        let lifetime = BlobReservation.lifetime.inSeconds
        try await transaction(.shared) { connection in
            for reservation in reservations {
                try await Self.insertReservation(reservation, lease: lease, lifetime: lifetime, on: connection, logger: self.logger)
            }
        }
        return reservations
    }

    /// When any reservation has expired, none of the batch is recorded.
    public func recordBlobs(_ records: [BlobRecord]) async throws {
        guard !records.isEmpty else { return }
        let lease = GarbageCollector.claimLease.inSeconds
        try await transaction(.shared) { connection in
            let logger = self.logger
            for record in records {
                guard let first = record.repositories.first else {
                    try await connection.query(
                        "DELETE FROM blob_reservation WHERE token = \(record.reservation.token)", logger: logger)
                    continue
                }
                try await Self.insertBlobRow(
                    record.digest, size: record.size, in: first, reservation: record.reservation, completingUpload: nil,
                    lease: lease, on: connection, logger: logger)
                for repository in record.repositories.dropFirst() {
                    guard let id = try await Self.repositoryID(repository, on: connection, create: true, logger: logger)
                    else { throw RegistryError(.unknown, "repository row vanished during its own transaction") }
                    try await Self.link(record.digest, into: id, on: connection, logger: logger)
                }
            }
        }
    }

    /// Each put in a savepoint, so a refused one leaves no trace and the others are stored.
    public func putManifests(_ puts: [ManifestPut], in repository: RepositoryName) async throws -> [RegistryError?] {
        guard !puts.isEmpty else { return [] }
        let (refusals, tagAdded) = try await transaction(.shared) { connection in
            let logger = self.logger
            var refusals: [RegistryError?] = []
            var tagAdded = false
            for put in puts {
                try await connection.query("SAVEPOINT manifest_put", logger: logger)
                do {
                    let added = try await Self.insertManifest(
                        put.manifest, in: repository, tag: put.tag, on: connection, logger: logger)
                    try await connection.query("RELEASE SAVEPOINT manifest_put", logger: logger)
                    tagAdded = tagAdded || added
                    refusals.append(nil)
                } catch let refusal as RegistryError {
                    try await connection.query("ROLLBACK TO SAVEPOINT manifest_put", logger: logger)
                    try await connection.query("RELEASE SAVEPOINT manifest_put", logger: logger)
                    refusals.append(refusal)
                }
            }
            return (refusals, tagAdded)
        }
        if tagAdded { try await tagSetChanged() }
        return refusals
    }
}
