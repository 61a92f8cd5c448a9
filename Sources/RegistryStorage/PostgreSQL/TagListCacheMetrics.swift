import Metrics

/// Metrics of the per-node tag list cache (see ``PostgresCacheCoherence``):
/// - `registry_tag_list_cache_total{result}`: tag list reads answered from memory (`hit`) or
///   by the database (`miss`);
/// - `registry_tag_list_barrier_duration_seconds`: how long writes that changed a tag set
///   waited for every node of the fleet to acknowledge the change.
///
/// The objects are made once, at the first read: after registryd bootstrapped the metrics
/// system (a hit is too frequent to look a counter up each time).
enum TagListCacheMetrics {
    private static let hits = Counter(label: "registry_tag_list_cache_total", dimensions: [("result", "hit")])
    private static let misses = Counter(label: "registry_tag_list_cache_total", dimensions: [("result", "miss")])
    private static let barriers = Timer(label: "registry_tag_list_barrier_duration_seconds")

    static func hit() { hits.increment() }
    static func miss() { misses.increment() }
    static func barrier(since start: ContinuousClock.Instant) {
        barriers.recordNanoseconds(PostgresPoolMetrics.since(start))
    }
}
