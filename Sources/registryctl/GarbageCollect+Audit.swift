import Foundation
import RegistryCore
import RegistryStorage

extension CollectionReport {
    /// What a gc run removed, for the audit trail: one summary event, then one event per
    /// manifest and blob. The user is the account that ran registryctl.
    func auditEvents(at time: Date = Date()) -> [AuditEvent] {
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.userName
        var events = [
            AuditEvent(
                time: time, action: .gcRun, user: user, client: "local",
                removed: .init(manifests: manifestsRemoved, blobs: blobsRemoved, bytes: bytesFreed, uploads: uploadsRemoved))
        ]
        events += manifests.map {
            AuditEvent(time: time, action: .gcManifestDelete, user: user, client: "local", repository: $0.repository, digest: $0.digest)
        }
        events += blobs.map { AuditEvent(time: time, action: .gcBlobDelete, user: user, client: "local", digest: $0.digest) }
        return events
    }
}
