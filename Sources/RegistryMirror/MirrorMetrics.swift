import Metrics

/// Per upstream: cache hits and misses, bytes fetched, and how long upstream requests take.
struct MirrorMetrics: Sendable {
    let hits: Counter
    let misses: Counter
    let upstreamBytes: Counter
    let upstreamErrors: Counter
    let upstreamLatency: Timer

    init(upstream: String) {
        hits = Counter(label: "registry_mirror_cache_requests_total", dimensions: [("upstream", upstream), ("result", "hit")])
        misses = Counter(label: "registry_mirror_cache_requests_total", dimensions: [("upstream", upstream), ("result", "miss")])
        upstreamBytes = Counter(label: "registry_mirror_upstream_bytes_total", dimensions: [("upstream", upstream)])
        upstreamErrors = Counter(label: "registry_mirror_upstream_errors_total", dimensions: [("upstream", upstream)])
        upstreamLatency = Timer(label: "registry_mirror_upstream_request_duration_seconds", dimensions: [("upstream", upstream)])
    }
}
