import Metrics
import RegistryService
import RegistryStorage

/// Gauges of what the registry holds, set from the database when metrics are scraped:
/// a few counts over indexed tables, never a walk of the blob folders.
struct StorageMetrics: Sendable {
    let statistics: @Sendable () async throws -> RegistryStatistics
    let health: HealthMonitor

    /// Sets every gauge to its current value.
    func refresh() async {
        let report = await health.report()
        Gauge(label: "registry_health_ok").record(report.isHealthy && health.isServing ? 1 : 0)
        guard let statistics = try? await statistics() else {
            Gauge(label: "registry_database_ok").record(0)
            return
        }
        Gauge(label: "registry_database_ok").record(1)
        Gauge(label: "registry_blobs").record(statistics.blobs)
        Gauge(label: "registry_blob_bytes").record(statistics.blobBytes)
        Gauge(label: "registry_manifests").record(statistics.manifests)
        Gauge(label: "registry_tags").record(statistics.tags)
        Gauge(label: "registry_repositories").record(statistics.repositories)
        Gauge(label: "registry_uploads_in_progress").record(statistics.uploadsInProgress)
        Gauge(label: "registry_gc_runs").record(statistics.gcRuns)
        Gauge(label: "registry_gc_freed_bytes").record(statistics.gcBytesFreed)
        if let last = statistics.lastGC {
            Gauge(label: "registry_gc_last_run_timestamp_seconds").record(last.finishedAt)
            Gauge(label: "registry_gc_last_duration_seconds").record(last.seconds)
            Gauge(label: "registry_gc_last_freed_bytes").record(last.bytesFreed)
            Gauge(label: "registry_gc_last_removed_blobs").record(last.blobsRemoved)
            Gauge(label: "registry_gc_last_removed_manifests").record(last.manifestsRemoved)
        }
    }
}
