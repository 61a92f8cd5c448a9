import Foundation
import RegistryCore

/// A consistent copy of a registry taken while it serves: a snapshot of the metadata plus the
/// blobs that snapshot records, laid out as a storage root (`registry.db`, `blobs/sha256/..`),
/// so restoring is pointing `rootdirectory` at a copy of it.
///
/// The snapshot pins its blobs (see ``SnapshottingMetadataStore``), so garbage collection
/// deletes none of them while they are exported; pushes go on meanwhile.
public struct RegistryBackup: Sendable {
    public struct Summary: Sendable, Encodable {
        public var blobs: Int
        public var bytes: Int64
        /// True when blobs were hard-linked into the backup, false when copied.
        public var linked: Bool
        public var seconds: Double
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    let blobs: any BlobExporting
    let metadata: any SnapshottingMetadataStore

    public init(blobs: any BlobExporting, metadata: any SnapshottingMetadataStore) {
        self.blobs = blobs
        self.metadata = metadata
    }

    /// Writes the backup into `destination`, which must be missing or an empty folder.
    public func run(to destination: String) async throws -> Summary {
        let started = ContinuousClock.now
        try Self.prepare(destination)
        let snapshot = try await metadata.snapshot(to: destination + "/registry.db")
        let exported: (bytes: Int64, linked: Bool)
        do {
            exported = try await blobs.export(snapshot.blobs, into: destination)
        } catch {
            try? await metadata.release(snapshot)
            throw error
        }
        try await metadata.release(snapshot)
        try POSIXFile.syncFileSystem(containing: destination)
        try POSIXFile.fsyncDirectory(destination)
        return Summary(
            blobs: snapshot.blobs.count, bytes: exported.bytes, linked: exported.linked,
            seconds: (ContinuousClock.now - started).inSeconds)
    }

    private static func prepare(_ destination: String) throws {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: destination), !entries.isEmpty {
            throw Refusal(description: "\(destination) is not empty; a backup needs a new or empty folder")
        }
        try POSIXFile.makeDirectories(destination)
    }
}
