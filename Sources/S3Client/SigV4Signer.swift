import Crypto
import Foundation

/// AWS Signature Version 4 for S3: the `Authorization` header of a request, or the query of a
/// presigned URL.
///
/// Written from the specification ("Signature Calculations for the Authorization Header" and
/// "Authenticating Requests: Using Query Parameters") and checked against its published examples
/// in the tests.
public struct SigV4Signer: Sendable {
    public let accessKey: String
    public let secretKey: String
    public let region: String
    public let service: String

    /// The payload hash for a body the signature does not cover (streamed bodies, presigned URLs).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The SHA-256 of an empty body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public init(accessKey: String, secretKey: String, region: String, service: String = "s3") {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
        self.service = service
    }

    /// What is signed: the canonical form of one request.
    public struct Request: Sendable {
        public var method: String
        /// The host header's value: `host` or `host:port` when the port is not the scheme's default.
        public var host: String
        /// The path, already URI-encoded (``S3URIEncoding/path(_:)``), starting with `/`.
        public var encodedPath: String
        /// Query parameters, not yet encoded.
        public var query: [(String, String)]
        /// Headers to sign besides `host`, by lower-case name.
        public var headers: [(String, String)]

        public init(
            method: String, host: String, encodedPath: String, query: [(String, String)] = [],
            headers: [(String, String)] = []
        ) {
            self.method = method
            self.host = host
            self.encodedPath = encodedPath
            self.query = query
            self.headers = headers
        }

        /// The query string as sent and as signed: encoded pairs sorted by name, then value.
        public var canonicalQuery: String {
            let encoded: [(name: String, value: String)] = query.map { pair in
                (S3URIEncoding.query(pair.0), S3URIEncoding.query(pair.1))
            }
            let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
            return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
        }
    }

    /// The headers a signed request carries: `x-amz-date`, `x-amz-content-sha256` and
    /// `Authorization` (the request's own headers, such as `host`, are signed but not returned).
    public func authorizationHeaders(for request: Request, payloadHash: String, date: Date) -> [(String, String)] {
        let time = SigningTime(date)
        var headers = request.headers.map { ($0.0.lowercased(), Self.trim($0.1)) }
        headers.append(("host", request.host))
        headers.append(("x-amz-content-sha256", payloadHash))
        headers.append(("x-amz-date", time.timestamp))
        headers.sort { $0.0 < $1.0 }
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let canonical = [
            request.method,
            request.encodedPath,
            request.canonicalQuery,
            headers.map { "\($0.0):\($0.1)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let signature = sign(canonical, time: time)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope(time)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return [("x-amz-content-sha256", payloadHash), ("x-amz-date", time.timestamp), ("Authorization", authorization)]
    }

    /// The full query string of a presigned URL valid for `expires` seconds from `date`.
    public func presignedQuery(for request: Request, expires: Int, date: Date) -> String {
        let time = SigningTime(date)
        var presigned = request
        presigned.query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(accessKey)/\(scope(time))"),
            ("X-Amz-Date", time.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let canonical = [
            request.method,
            request.encodedPath,
            presigned.canonicalQuery,
            "host:\(request.host)\n",
            "host",
            Self.unsignedPayload,
        ].joined(separator: "\n")
        return presigned.canonicalQuery + "&X-Amz-Signature=" + sign(canonical, time: time)
    }

    /// Hex SHA-256 of a body, for `x-amz-content-sha256`.
    public static func payloadHash<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hex(SHA256.hash(data: Array(bytes)))
    }

    private func scope(_ time: SigningTime) -> String {
        "\(time.day)/\(region)/\(service)/aws4_request"
    }

    private func sign(_ canonicalRequest: String, time: SigningTime) -> String {
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            time.timestamp,
            scope(time),
            Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(secretKey)".utf8))
        for part in [time.day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// Header values are signed with surrounding spaces trimmed and inner runs collapsed.
    private static func trim(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A signing time in the two forms SigV4 uses: `20130524T000000Z` and `20130524`, in UTC.
private struct SigningTime {
    let timestamp: String
    let day: String

    init(_ date: Date) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day = String(
            format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        self.day = day
        timestamp =
            day + String(format: "T%02d%02d%02dZ", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}
