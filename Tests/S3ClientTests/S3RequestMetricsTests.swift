import NIOHTTP1
import Testing

@testable import S3Client

/// The operation label of `registry_s3_requests_total`: S3's operation, named from the shape
/// of the request (method, query names, a copy source), never from a key.
@Suite struct S3RequestMetricsTests {
    func operation(_ method: HTTPMethod, _ query: [String], copy: Bool = false) -> String {
        S3RequestMetrics.operation(
            method, query: query.map { ($0, "x") }, headers: copy ? [("x-amz-copy-source", "/b/k")] : [])
    }

    @Test func objects() {
        #expect(operation(.GET, []) == "get_object")
        #expect(operation(.HEAD, []) == "head_object")
        #expect(operation(.PUT, []) == "put_object")
        #expect(operation(.PUT, [], copy: true) == "copy_object")
        #expect(operation(.DELETE, []) == "delete_object")
        #expect(operation(.POST, ["delete"]) == "delete_objects")
        #expect(operation(.GET, ["list-type", "prefix", "continuation-token"]) == "list_objects")
    }

    @Test func multipartUploads() {
        #expect(operation(.POST, ["uploads"]) == "create_multipart_upload")
        #expect(operation(.PUT, ["partNumber", "uploadId"]) == "upload_part")
        #expect(operation(.PUT, ["partNumber", "uploadId"], copy: true) == "upload_part_copy")
        #expect(operation(.POST, ["uploadId"]) == "complete_multipart_upload")
        #expect(operation(.DELETE, ["uploadId"]) == "abort_multipart_upload")
        #expect(operation(.GET, ["uploadId"]) == "list_parts")
        #expect(operation(.GET, ["uploads"]) == "list_multipart_uploads")
    }
}
