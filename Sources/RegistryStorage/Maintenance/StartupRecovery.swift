import Logging

/// Reconciles what a crash can leave behind, cheaply enough to run at every start: staged
/// uploads without a session row (a whole-blob upload cut off, or a session whose row was
/// removed) are discarded, and session rows whose staged bytes are gone are dropped.
/// Blobs are not walked here; that is `registryctl fsck`'s job.
///
/// For a store whose staging only this server uses (the filesystem). With staging shared by
/// several servers, another server's upload in progress would look stray; there abandoned
/// uploads are left to purging by age.
public enum StartupRecovery {
    public static func run(blobs: any BlobStore, metadata: any MetadataStore, logger: Logger) async throws {
        let files = Set(try await blobs.stagedUploadIDs())
        let sessions = try await metadata.uploadIDs()
        let strayFiles = files.subtracting(sessions)
        let orphanRows = sessions.subtracting(files)
        for id in strayFiles {
            try await blobs.discardUpload(id: id)
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
