import Logging

/// Reconciles what a crash can leave behind, cheaply enough to run at every start:
/// staging files without a session row (a whole-blob upload cut off, or a session whose row
/// was removed) are deleted, and session rows whose staging file is gone are dropped.
/// Blob files are not walked here; that is `registryctl fsck`'s job.
public enum StartupRecovery {
    public static func run(blobs: any BlobStore, metadata: any MetadataStore, logger: Logger) async throws {
        let files = Set(try await blobs.uploadIDs())
        let sessions = try await metadata.uploadIDs()
        let strayFiles = files.subtracting(sessions)
        let orphanRows = sessions.subtracting(files)
        for id in strayFiles {
            try await blobs.removeUpload(id: id)
        }
        for id in orphanRows {
            try await metadata.deleteUpload(id: id)
        }
        if !strayFiles.isEmpty || !orphanRows.isEmpty {
            logger.notice(
                "recovered after an unclean stop",
                metadata: ["stray_upload_files": "\(strayFiles.count)", "orphan_upload_rows": "\(orphanRows.count)"])
        }
    }
}
