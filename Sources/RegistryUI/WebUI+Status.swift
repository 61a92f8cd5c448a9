import Foundation
import Hummingbird
import RegistryStorage

/// The status page: the health checks `/healthz` reports, version, uptime and storage totals.
extension WebUI {
    func status(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let health = await settings.health()
        var totals: StatusPage.Totals?
        // Totals count every repository; they are shown to those who may see everything.
        if visitor.user != nil || !visitor.usesSignIn, let statistics = try? await settings.statistics?() {
            let lastGC = statistics.lastGC.map { run in
                let finished = Date(timeIntervalSince1970: run.finishedAt)
                return "\(ISO8601DateFormatter().string(from: finished)): freed \(Format.size(run.bytesFreed)), "
                    + "\(run.blobsRemoved) blobs and \(run.manifestsRemoved) manifests removed"
            }
            totals = .init(
                repositories: statistics.repositories, tags: statistics.tags, manifests: statistics.manifests,
                blobs: statistics.blobs, blobBytes: Format.size(statistics.blobBytes), uploads: statistics.uploadsInProgress,
                lastGC: lastGC ?? "never")
        }
        let uptime = Int(Date().timeIntervalSince(settings.startedAt))
        let page = StatusPage(
            chrome: chrome("Status", visitor), healthy: health.isHealthy,
            checks: [
                .init(name: "storage", result: health.storage ?? "ok"),
                .init(name: "database", result: health.database ?? "ok"),
            ], version: settings.version, uptime: Format.duration(max(0, uptime)), totals: totals)
        return render(page, "status")
    }
}
