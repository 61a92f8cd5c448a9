import Metrics
import NIOHTTP1

/// Metrics of the requests the S3 client sends: `registry_s3_requests_total{operation,status}`
/// (status is the class: `2xx`, `4xx`, `5xx`, or `error` when no answer came) and
/// `registry_s3_request_duration_seconds{operation}` (until the answer's head; a streamed
/// download's body is not included). Operations are S3's, named from the request's shape, never
/// from a key, so that their number stays small.
///
/// Metric objects are made at each use rather than once: swift-metrics binds an object to the
/// factory bootstrapped when it is made, and a store may be opened before registryd bootstraps
/// its Prometheus registry. The factory keeps one series per label set either way.
enum S3RequestMetrics {
    static func record(
        _ method: HTTPMethod, query: [(String, String)], headers: [(String, String)], status: Int?,
        nanoseconds: Int64
    ) {
        let operation = operation(method, query: query, headers: headers)
        let statusClass = status.map { "\($0 / 100)xx" } ?? "error"
        Counter(label: "registry_s3_requests_total", dimensions: [("operation", operation), ("status", statusClass)])
            .increment()
        Timer(label: "registry_s3_request_duration_seconds", dimensions: [("operation", operation)])
            .recordNanoseconds(nanoseconds)
    }

    static func operation(_ method: HTTPMethod, query: [(String, String)], headers: [(String, String)]) -> String {
        let names = Set(query.map { $0.0 })
        let copy = headers.contains { $0.0.lowercased() == "x-amz-copy-source" }
        switch method {
        case .GET where names.contains("list-type") || names.contains("prefix"): return "list_objects"
        case .GET where names.contains("uploads"): return "list_multipart_uploads"
        case .GET where names.contains("uploadId"): return "list_parts"
        case .GET: return "get_object"
        case .HEAD: return "head_object"
        case .PUT where names.contains("partNumber"): return copy ? "upload_part_copy" : "upload_part"
        case .PUT: return copy ? "copy_object" : "put_object"
        case .POST where names.contains("uploads"): return "create_multipart_upload"
        case .POST where names.contains("uploadId"): return "complete_multipart_upload"
        case .POST where names.contains("delete"): return "delete_objects"
        case .DELETE where names.contains("uploadId"): return "abort_multipart_upload"
        case .DELETE: return "delete_object"
        default: return "other"
        }
    }

}
