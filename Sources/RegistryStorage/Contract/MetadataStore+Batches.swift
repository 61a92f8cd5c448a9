import RegistryCore

/// A blob whose bytes are durable, to be recorded under its reservation and linked into
/// repositories by ``MetadataStore/recordBlobs(_:)``.
public struct BlobRecord: Sendable, Equatable {
    public var digest: Digest
    public var size: Int64
    /// Where to link it; the first is where it is recorded, the others see it too.
    public var repositories: [RepositoryName]
    public var reservation: BlobReservation

    public init(digest: Digest, size: Int64, repositories: [RepositoryName], reservation: BlobReservation) {
        self.digest = digest
        self.size = size
        self.repositories = repositories
        self.reservation = reservation
    }
}

/// A validated manifest to store, and the tag to point at it, for
/// ``MetadataStore/putManifests(_:in:)``.
public struct ManifestPut: Sendable {
    public var manifest: Manifest
    public var tag: Tag?

    public init(manifest: Manifest, tag: Tag?) {
        self.manifest = manifest
        self.tag = tag
    }
}

/// The batch calls a bulk import makes, as loops over the single calls. A store overrides them
/// to run each batch in one transaction (one commit, so one fsync, instead of one per item);
/// the loops keep every other store correct, since each single call is safe on its own.
extension MetadataStore {
    /// Reserves every digest, or none: when one is refused (``BlobBeingDeleted``) the ones
    /// already taken are released before the error is thrown.
    public func reserveBlobs(_ digests: [Digest]) async throws -> [BlobReservation] {
        var taken: [BlobReservation] = []
        do {
            for digest in digests { taken.append(try await reserveBlob(digest)) }
        } catch {
            try? await releaseReservations(taken)
            throw error
        }
        return taken
    }

    /// Records each blob (``recordBlob(_:size:in:reservation:completingUpload:)``) in its
    /// first repository and mounts it into the others.
    public func recordBlobs(_ records: [BlobRecord]) async throws {
        for record in records {
            guard let first = record.repositories.first else {
                try await releaseReservation(record.reservation)
                continue
            }
            try await recordBlob(record.digest, size: record.size, in: first, reservation: record.reservation, completingUpload: nil)
            for repository in record.repositories.dropFirst() {
                _ = try await mountBlobFromAnyRepository(record.digest, into: repository)
            }
        }
    }

    public func releaseReservations(_ reservations: [BlobReservation]) async throws {
        for reservation in reservations { try await releaseReservation(reservation) }
    }

    /// Each put in order (so an index after its children works), each as
    /// ``putManifest(_:in:tag:)`` would do it; the refusal of each (nil when stored).
    public func putManifests(_ puts: [ManifestPut], in repository: RepositoryName) async throws -> [RegistryError?] {
        var refusals: [RegistryError?] = []
        for put in puts {
            do {
                try await putManifest(put.manifest, in: repository, tag: put.tag)
                refusals.append(nil)
            } catch let error as RegistryError {
                refusals.append(error)
            }
        }
        return refusals
    }
}
