import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import RegistryCore

/// One upstream registry, spoken to as a Docker/OCI client: requests under `/v2/`, the
/// Docker token flow (anonymous or with the mirror's credentials) and Basic authentication,
/// redirects followed by hand so that credentials never travel to the blob host.
struct UpstreamClient: Sendable {
    let mirror: RegistryConfiguration.Mirror
    let http: HTTPClient
    let tokens = UpstreamTokens()
    let logger: Logger

    /// The client's own connection pool, with the mirror's TLS settings: the system roots plus
    /// `ca`, or no verification with `insecure`. Timeouts bound each read, not a whole download.
    static func makeHTTPClient(for mirror: RegistryConfiguration.Mirror) throws -> HTTPClient {
        var settings = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = mirror.caBundle {
            tls.additionalTrustRoots = [.file(ca)]
        }
        if mirror.insecure { tls.certificateVerification = .none }
        settings.tlsConfiguration = tls
        settings.timeout = .init(connect: .seconds(10), read: .seconds(60))
        settings.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        settings.decompression = .disabled
        settings.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: settings)
    }

    /// What a request was for, so that failures name it.
    enum Subject {
        case manifest
        case blob
    }

    /// Sends `method` to `/v2/<remoteName>/<path>`, authenticating as the upstream asks and
    /// following redirects. Answers with the final response, whatever its status; throws
    /// ``UpstreamFailure/unreachable`` when the upstream cannot be reached at all.
    func send(
        _ method: HTTPMethod, remoteName: String, path: String, accept: [String] = [], deadline: Duration = .seconds(60)
    ) async throws -> HTTPClientResponse {
        try await negotiate(remoteName: remoteName, path: path) { url, authorization in
            try await execute(method, url: url, accept: accept, authorization: authorization, deadline: deadline)
        }
    }

    /// GETs a blob as ``send(_:remoteName:path:accept:deadline:)`` does, with its body read in
    /// large buffers (``UpstreamBlobStream``) rather than socket read by socket read.
    func download(remoteName: String, path: String, deadline: Duration) async throws -> UpstreamDownload {
        try await negotiate(remoteName: remoteName, path: path) { url, authorization in
            try await stream(url: url, authorization: authorization, deadline: deadline)
        }
    }

    /// The Docker client's dance around one request: answer a challenge once, then follow up to
    /// five redirects; `attempt` sends the request to a URL with an `Authorization` value.
    private func negotiate<Answer: UpstreamAnswer>(
        remoteName: String, path: String, attempt: (String, String?) async throws -> Answer
    ) async throws -> Answer {
        let url = "\(mirror.remoteURL)/v2/\(remoteName)/\(path)"
        let scope = "repository:\(remoteName):pull"
        var authorization = await tokens.authorization(for: scope)
        var response = try await attempt(url, authorization)
        if response.status == .unauthorized, let header = response.headers.first(name: "WWW-Authenticate"),
            let challenge = AuthChallenge(parsing: header)
        {
            await response.discard()
            authorization = try await authenticate(challenge, scope: scope)
            response = try await attempt(url, authorization)
        }
        var redirects = 0
        while [.movedPermanently, .found, .seeOther, .temporaryRedirect, .permanentRedirect].contains(response.status),
            let location = response.headers.first(name: "Location"), redirects < 5
        {
            await response.discard()
            redirects += 1
            let target = Self.resolve(location, against: url)
            // The blob host (a bucket's presigned URL) gets no registry credentials.
            let sameHost = URL(string: target)?.host == URL(string: url)?.host
            response = try await attempt(target, sameHost ? authorization : nil)
        }
        return response
    }

    /// One GET whose body goes to an ``UpstreamBlobStream``; answers once the head is in.
    private func stream(url: String, authorization: String?, deadline: Duration) async throws -> UpstreamDownload {
        do {
            var headers = HTTPHeaders()
            headers.add(name: "User-Agent", value: "berth-mirror/0.1")
            if let authorization { headers.add(name: "Authorization", value: authorization) }
            let request = try HTTPClient.Request(url: url, method: .GET, headers: headers)
            let eventLoop = http.eventLoopGroup.any()
            let body = UpstreamBlobStream(eventLoop: eventLoop)
            let task = http.execute(
                request: request, delegate: body, eventLoop: .delegateAndChannel(on: eventLoop),
                deadline: .now() + .nanoseconds(Int64(deadline.inSeconds * 1e9)), logger: logger)
            task.futureResult.whenFailure { body.fail($0) }
            let head = try await body.responseHead()
            return UpstreamDownload(status: head.status, headers: head.headers, body: body, task: task)
        } catch {
            throw UpstreamFailure.unreachable(mirror.label, String(describing: error))
        }
    }

    private func execute(
        _ method: HTTPMethod, url: String, accept: [String], authorization: String?, deadline: Duration
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "berth-mirror/0.1")
        for type in accept { request.headers.add(name: "Accept", value: type) }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        do {
            return try await http.execute(request, timeout: .nanoseconds(Int64(deadline.inSeconds * 1e9)), logger: logger)
        } catch {
            throw UpstreamFailure.unreachable(mirror.label, String(describing: error))
        }
    }

    /// Answers a challenge: a bearer token from the realm (with the mirror's credentials as
    /// Basic, when it has them) cached for its lifetime, or Basic credentials.
    private func authenticate(_ challenge: AuthChallenge, scope: String) async throws -> String? {
        switch challenge.scheme {
        case "bearer":
            guard let realm = challenge.parameters["realm"] else { return nil }
            return try await tokens.fetch(
                realm: realm, service: challenge.parameters["service"], scope: challenge.parameters["scope"] ?? scope,
                cacheScope: scope, basic: basicCredentials, client: self)
        case "basic":
            guard let basic = basicCredentials else { return nil }
            await tokens.remember(basic, for: scope)
            return basic
        default:
            return nil
        }
    }

    var basicCredentials: String? {
        guard let username = mirror.username, let password = mirror.password else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// GET of a token realm (not under `/v2/`).
    func getToken(url: String, basic: String?) async throws -> HTTPClientResponse {
        try await execute(.GET, url: url, accept: ["application/json"], authorization: basic, deadline: .seconds(30))
    }

    static func resolve(_ location: String, against base: String) -> String {
        if location.contains("://") { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
            return location
        }
        return resolved.absoluteString
    }
}
