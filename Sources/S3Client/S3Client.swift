import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A small client for the part of the S3 API a registry's blob store needs: objects (put, get
/// with ranges, head, copy, delete one or many), listing, multipart uploads (including copying
/// parts server-side) and presigned URLs. Every request is signed with AWS Signature Version 4.
///
/// No S3 SDK is available to this project, and this much of the protocol is small enough to own:
/// each operation is one HTTP exchange over async-http-client, with XML bodies decoded by XMLCoder.
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    let httpClient: HTTPClient
    let signer: SigV4Signer
    let logger: Logger

    /// Bodies of error answers and small XML results are read up to this size.
    static let maximumXMLBody = 4 << 20

    public init(configuration: S3Configuration, httpClient: HTTPClient, logger: Logger = Logger(label: "berth.s3")) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.signer = SigV4Signer(
            accessKey: configuration.accessKey, secretKey: configuration.secretKey, region: configuration.region)
        self.logger = logger
    }

    /// Whether the server's TLS certificate is checked (`skipverify` turns it off).
    public enum TLSVerification: Sendable {
        case tlsVerified
        case tlsUnverified
    }

    /// An HTTP client set up for an object store: its own connection pool, the configured TLS
    /// verification, and read and connect timeouts rather than one deadline for a whole
    /// (possibly huge) transfer. The caller shuts it down.
    public static func makeHTTPClient(for tls: TLSVerification, connectionsPerHost: Int = 16) -> HTTPClient {
        var settings = HTTPClient.Configuration()
        if tls == .tlsUnverified {
            settings.tlsConfiguration = .makeClientConfiguration()
            settings.tlsConfiguration?.certificateVerification = .none
        }
        settings.timeout = .init(connect: .seconds(10), read: .seconds(120))
        settings.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        settings.decompression = .disabled
        settings.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
    }

    // MARK: - Addressing

    /// The request target for a key (nil: the bucket itself).
    struct Target {
        var url: String
        var host: String
        var encodedPath: String
    }

    func target(key: String?, query: [(String, String)]) -> Target {
        let endpoint = configuration.endpoint
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host ?? "localhost"
        if let port = endpoint.port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) {
            host += ":\(port)"
        }
        let encodedKey = key.map { "/" + S3URIEncoding.path($0) } ?? "/"
        var path: String
        if configuration.forcePathStyle {
            path = "/" + S3URIEncoding.path(configuration.bucket) + (key == nil ? "" : encodedKey)
        } else {
            host = configuration.bucket + "." + host
            path = encodedKey
        }
        if path.isEmpty { path = "/" }
        let request = SigV4Signer.Request(method: "GET", host: host, encodedPath: path, query: query)
        let queryString = request.canonicalQuery
        return Target(
            url: "\(scheme)://\(host)\(path)" + (queryString.isEmpty ? "" : "?" + queryString), host: host,
            encodedPath: path)
    }

    // MARK: - Sending

    /// A request body: bytes in memory (signed, and retried on a transient failure), a stream
    /// of known length (sent as `UNSIGNED-PAYLOAD`, never retried), or bytes read afresh for
    /// each attempt (a local file) whose SHA-256 is known beforehand (signed and retried like
    /// `bytes`, without holding them in memory).
    public enum Payload: Sendable {
        case empty
        case bytes(ByteBuffer)
        case stream(HTTPClientRequest.Body, length: Int64)
        case replayable(length: Int64, sha256Hex: String, makeBody: @Sendable () -> HTTPClientRequest.Body)
    }

    /// Sends one signed request and returns the answer when its status is a success; otherwise
    /// throws the ``S3Error`` the body describes. Transient failures of replayable requests are
    /// retried with backoff.
    func send(
        _ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        payload: Payload = .empty
    ) async throws -> HTTPClientResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await sendOnce(method, key: key, query: query, headers: headers, payload: payload)
                return response
            } catch let error as S3Error where error.isTransient && attempt < 4 && payload.isReplayable {
                logger.debug("S3 \(method) retried after \(error)")
            } catch let error as HTTPClientError where attempt < 4 && payload.isReplayable && error.isRetryable {
                logger.debug("S3 \(method) retried after \(error)")
            }
            try await Task.sleep(for: .milliseconds(100 << attempt))
        }
    }

    private func sendOnce(
        _ method: HTTPMethod, key: String?, query: [(String, String)], headers: [(String, String)], payload: Payload
    ) async throws -> HTTPClientResponse {
        let target = target(key: key, query: query)
        var request = HTTPClientRequest(url: target.url)
        request.method = method
        let payloadHash: String
        switch payload {
        case .empty:
            payloadHash = SigV4Signer.emptyPayloadHash
            if method == .PUT || method == .POST { request.headers.add(name: "Content-Length", value: "0") }
        case .bytes(let buffer):
            payloadHash = SigV4Signer.payloadHash(buffer.readableBytesView)
            request.body = .bytes(buffer)
        case .stream(let body, _):
            payloadHash = SigV4Signer.unsignedPayload
            request.body = body
        case .replayable(_, let sha256Hex, let makeBody):
            payloadHash = sha256Hex
            request.body = makeBody()
        }
        let signed = SigV4Signer.Request(
            method: method.rawValue, host: target.host, encodedPath: target.encodedPath, query: query,
            headers: headers)
        request.headers.add(name: "Host", value: target.host)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.authorizationHeaders(for: signed, payloadHash: payloadHash, date: Date()) {
            request.headers.add(name: name, value: value)
        }
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, deadline: .distantFuture, logger: logger)
        } catch {
            S3RequestMetrics.record(method, query: query, headers: headers, status: nil, nanoseconds: Self.since(started))
            throw error
        }
        S3RequestMetrics.record(
            method, query: query, headers: headers, status: Int(response.status.code), nanoseconds: Self.since(started))
        guard (200..<300).contains(response.status.code) || response.status.code == 206 else {
            throw await Self.error(from: response, method: method)
        }
        return response
    }

    static func since(_ start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    /// Reads a whole (small) XML answer; S3 may also answer 200 with an `<Error>` body
    /// (CompleteMultipartUpload, CopyObject), which becomes an ``S3Error`` here.
    func collectXML(_ response: HTTPClientResponse) async throws -> Data {
        let buffer = try await response.body.collect(upTo: Self.maximumXMLBody)
        let data = Data(buffer.readableBytesView)
        // Only a body that holds an <Error> element is worth decoding as one (cheap check first).
        if data.range(of: Data("<Error".utf8)) != nil, let failure = try? S3XML.decode(S3XML.ErrorBody.self, from: data) {
            throw S3Error(
                code: failure.Code, status: Int(response.status.code), message: failure.Message ?? "",
                requestID: failure.RequestId)
        }
        return data
    }

    static func error(from response: HTTPClientResponse, method: HTTPMethod) async -> S3Error {
        let status = Int(response.status.code)
        let requestID = response.headers.first(name: "x-amz-request-id")
        let buffer = try? await response.body.collect(upTo: maximumXMLBody)
        if let buffer, buffer.readableBytes > 0,
            let body = try? S3XML.decode(S3XML.ErrorBody.self, from: Data(buffer.readableBytesView))
        {
            return S3Error(code: body.Code, status: status, message: body.Message ?? "", requestID: body.RequestId ?? requestID)
        }
        let code =
            switch status {
            case 404: "NotFound"
            case 403: "AccessDenied"
            case 412: "PreconditionFailed"
            case 416: "InvalidRange"
            default: "HTTP\(status)"
            }
        return S3Error(code: code, status: status, message: response.status.reasonPhrase, requestID: requestID)
    }
}

extension S3Client.Payload {
    var isReplayable: Bool {
        if case .stream = self { return false }
        return true
    }

    var length: Int64 {
        switch self {
        case .empty: 0
        case .bytes(let buffer): Int64(buffer.readableBytes)
        case .stream(_, let length): length
        case .replayable(let length, _, _): length
        }
    }
}

extension HTTPClientError {
    /// Connection-level failures after which the same request may be sent again.
    var isRetryable: Bool {
        [.remoteConnectionClosed, .connectTimeout, .readTimeout, .requestStreamCancelled].contains(self)
    }
}
