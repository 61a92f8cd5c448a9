import Metrics

/// Per-endpoint notification metrics, labelled with the endpoint's name.
struct EndpointMetrics: Sendable {
    /// Events in the outbox this endpoint has not yet accepted (ignored ones included until
    /// its cursor passes them).
    let pending: Gauge
    /// Events this endpoint accepted (a 2xx answer).
    let delivered: Counter
    /// Failed deliveries: refusals, errors and timeouts. Each is retried.
    let failures: Counter

    init(endpoint: String) {
        let dimensions = [("endpoint", endpoint)]
        pending = Gauge(label: "registry_notifications_pending", dimensions: dimensions)
        delivered = Counter(label: "registry_notifications_delivered_total", dimensions: dimensions)
        failures = Counter(label: "registry_notifications_failures_total", dimensions: dimensions)
    }
}
