import AsyncHTTPClient
import Foundation
import Testing

@testable import S3Client

/// The real S3 server the integration tests use, from the environment that
/// `scripts/s3-server.sh start` prints. Without it these tests are skipped, unless
/// `S3_TEST_REQUIRED=1` (as in `.ci/run`), which makes its absence a failure.
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment

    static var isConfigured: Bool {
        environment["S3_TEST_ENDPOINT"] != nil || environment["S3_TEST_REQUIRED"] == "1"
    }

    /// A client on a bucket of its own, created for the calling test.
    static func client(bucket prefix: String = "t") async throws -> S3Client {
        let endpoint = try #require(
            environment["S3_TEST_ENDPOINT"].flatMap(URL.init(string:)),
            "S3_TEST_REQUIRED=1 but S3_TEST_ENDPOINT is not set: start scripts/s3-server.sh")
        let configuration = S3Configuration(
            endpoint: endpoint, region: environment["S3_TEST_REGION"] ?? "us-east-1",
            bucket: "\(prefix)-\(UUID().uuidString.lowercased().prefix(13))",
            accessKey: environment["S3_TEST_ACCESS_KEY"] ?? "", secretKey: environment["S3_TEST_SECRET_KEY"] ?? "")
        let client = S3Client(configuration: configuration, httpClient: .shared)
        try await client.createBucket()
        return client
    }

}
