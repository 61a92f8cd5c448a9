import Foundation
import Testing

@testable import S3Client

/// The examples AWS publishes for Signature Version 4 on S3 ("Examples: Signature Calculations"
/// and "Authenticating Requests: Using Query Parameters"), reproduced byte for byte.
@Suite struct SigV4SignerTests {
    let signer = SigV4Signer(
        accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
    let date = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    let host = "examplebucket.s3.amazonaws.com"

    func authorization(_ request: SigV4Signer.Request, payloadHash: String) -> String? {
        signer.authorizationHeaders(for: request, payloadHash: payloadHash, date: date)
            .first { $0.0 == "Authorization" }?.1
    }

    @Test func getObjectWithRange() {
        let request = SigV4Signer.Request(
            method: "GET", host: host, encodedPath: "/test.txt", headers: [("range", "bytes=0-9")])
        #expect(
            authorization(request, payloadHash: SigV4Signer.emptyPayloadHash)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObjectWithEncodedKeyAndSignedBody() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = SigV4Signer.payloadHash(body)
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let request = SigV4Signer.Request(
            method: "PUT", host: host, encodedPath: S3URIEncoding.path("/test$file.text"),
            headers: [("date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")])
        #expect(
            authorization(request, payloadHash: hash)?.hasSuffix(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
                    + "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") == true)
    }

    @Test func subresourceWithEmptyValue() {
        let request = SigV4Signer.Request(method: "GET", host: host, encodedPath: "/", query: [("lifecycle", "")])
        #expect(
            authorization(request, payloadHash: SigV4Signer.emptyPayloadHash)?.hasSuffix(
                "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") == true)
    }

    @Test func queryIsSortedByName() {
        let request = SigV4Signer.Request(
            method: "GET", host: host, encodedPath: "/", query: [("prefix", "J"), ("max-keys", "2")])
        #expect(request.canonicalQuery == "max-keys=2&prefix=J")
        #expect(
            authorization(request, payloadHash: SigV4Signer.emptyPayloadHash)?.hasSuffix(
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") == true)
    }

    @Test func presignedGet() {
        let request = SigV4Signer.Request(method: "GET", host: host, encodedPath: "/test.txt")
        let query = signer.presignedQuery(for: request, expires: 86400, date: date)
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func encodingKeepsOnlyUnreservedCharacters() {
        #expect(S3URIEncoding.path("a b/c+d=é~_.-") == "a%20b/c%2Bd%3D%C3%A9~_.-")
        #expect(S3URIEncoding.query("a/b c") == "a%2Fb%20c")
    }

    @Test func pathStyleAndVirtualHostedTargets() throws {
        let endpoint = try #require(URL(string: "http://127.0.0.1:9000"))
        var configuration = S3Configuration(
            endpoint: endpoint, region: "us-east-1", bucket: "reg", accessKey: "a", secretKey: "s")
        let client = S3Client(configuration: configuration, httpClient: .shared)
        let pathStyle = client.target(key: "docker/a b", query: [("x", "1")])
        #expect(pathStyle.url == "http://127.0.0.1:9000/reg/docker/a%20b?x=1")
        #expect(pathStyle.host == "127.0.0.1:9000")
        configuration.forcePathStyle = false
        configuration.endpoint = try #require(URL(string: "https://s3.eu-west-1.amazonaws.com:443"))
        let virtual = S3Client(configuration: configuration, httpClient: .shared).target(key: "k", query: [])
        #expect(virtual.url == "https://reg.s3.eu-west-1.amazonaws.com/k")
    }
}
