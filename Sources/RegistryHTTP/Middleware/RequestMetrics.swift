import HTTPTypes
import Hummingbird
import Metrics
import RegistryCore

/// Per-request metrics through swift-metrics: requests by route kind, method and status,
/// duration histograms, and bytes received and sent.
///
/// Routes are labelled by kind (`manifest`, `blob`, `upload`...), never by path, so the
/// number of time series stays bounded however many repositories there are.
struct RequestMetrics: Sendable {
    private let bytesReceived = Counter(label: "registry_http_request_bytes_total")
    private let bytesSent = Counter(label: "registry_http_response_bytes_total")

    /// Counts the bytes of a request body as the handler reads them.
    func countingBody(of request: inout Request) {
        guard request.method == .put || request.method == .patch || request.method == .post else { return }
        let counter = bytesReceived
        request.body = RequestBody(
            asyncSequence: request.body.map { buffer in
                counter.increment(by: buffer.readableBytes)
                return buffer
            })
    }

    func record(_ request: Request, routeLabel route: String, response: Response, duration: Duration) {
        let method = request.method.rawValue
        Counter(
            label: "registry_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(response.status.code))]
        ).increment()
        Timer(label: "registry_http_request_duration_seconds", dimensions: [("route", route), ("method", method)])
            .recordSeconds(duration.inSeconds)
        if request.method != .head, let length = response.headers[.contentLength].flatMap(Int.init) {
            bytesSent.increment(by: length)
        }
    }

    /// The label of a path that named no API route: `health`, or `other`. (API routes are
    /// labelled by their kind: `manifest`, `blob`, `upload`...)
    static func label(forPath path: String) -> String {
        path == "/healthz" || path == "/debug/health" ? "health" : "other"
    }
}
