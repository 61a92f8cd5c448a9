import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RegistryCore
import RegistryService
import RegistryStorage
import RegistryUI
import Synchronization

@testable import RegistryHTTP

/// A registry router over real stores in a temporary folder, served in process.
struct TestRegistry {
    var configuration = RegistryConfiguration()
    var authenticator: (any RequestAuthenticator)?
    var limits = RegistryConfiguration.Limits()
    var health: @Sendable () async -> StoreHealth = { StoreHealth() }
    var healthGates = false
    var logs: LogCapture?
    /// The web UI's settings; nil serves no UI.
    var ui: WebUISettings?

    init() {
        configuration.storage.rootDirectory = NSTemporaryDirectory() + "berth-http-" + UUID().uuidString
        configuration.storage.deleteEnabled = true
    }

    /// Runs `body` against a live in-process server on a loopback port.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await testWithService { client, _ in try await body(client) }
    }

    /// Runs `body` against a live in-process server, with the service behind it (to flush
    /// its pull recorder, as registryd does periodically).
    func testWithService<Value: Sendable>(
        _ body: @Sendable (any TestClientProtocol, RegistryService) async throws -> Value
    ) async throws -> Value {
        let stores = try await RegistryStores.open(configuration)
        let service = RegistryService(stores: stores, rules: RegistryRules(configuration))
        var logger = Logger(label: "test")
        if let logs { logger = Logger(label: "test") { _ in logs.handler } }
        let monitor = HealthMonitor(check: health, interval: .seconds(3600), threshold: 1, logger: logger)
        if healthGates { _ = try await monitorRunOnce(monitor) }
        let webUI = try ui.map { try WebUI(service: service, settings: $0, logger: logger) }
        let responder = RegistryRouter.build(
            api: RegistryAPI(
                service: service,
                locations: Locations(prefix: configuration.routePrefix, externalURL: configuration.http.externalURL)),
            settings: .init(
                prefix: configuration.routePrefix, extraHeaders: [(HTTPField.Name("X-Test")!, "yes")], accessLog: logs != nil,
                metrics: nil, limiter: RequestLimiter(limits), authenticator: authenticator, health: monitor,
                healthGatesRequests: healthGates, ui: webUI))
        let app = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        let result = try await app.test(.live) { client in try await body(client, service) }
        try await stores.close()
        return result
    }

    /// Lets the monitor record one periodic result, as its service would.
    private func monitorRunOnce(_ monitor: HealthMonitor) async throws -> Bool {
        let task = Task { try await monitor.run() }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        return true
    }
}

/// An authenticator that records the scopes it is asked for and allows `user` with password
/// `secret` (any other credentials are refused), or everyone when `allowAnonymous`.
final class RecordingAuthenticator: RequestAuthenticator, Sendable {
    private let asked = Mutex<[[String]]>([])
    let allowAnonymous: Bool

    init(allowAnonymous: Bool = false) { self.allowAnonymous = allowAnonymous }

    var scopesAsked: [[String]] { asked.withLock { $0 } }
    var calls: Int { asked.withLock { $0.count } }

    func decide(authorization: String?, scopes: [AccessScope]) async -> AccessDecision {
        asked.withLock { $0.append(scopes.map(\.description)) }
        if authorization == Self.valid || allowAnonymous { return .allowed(user: "user") }
        return .unauthorized("authentication required", challenge: "Basic realm=\"test\"")
    }

    static let valid = "Basic " + Data("user:secret".utf8).base64EncodedString()
    static var headers: HTTPFields { [.authorization: valid] }
}

/// Collects log lines.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    var handler: any LogHandler { Handler(capture: self) }

    struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            capture.lines.withLock { $0.append("\(event.message) \(fields.joined(separator: " "))") }
        }
    }
}

extension TestResponse {
    /// The OCI error code of an error body.
    var errorCode: String? {
        struct Body: Decodable {
            struct Entry: Decodable { var code: String }
            var errors: [Entry]
        }
        return (try? JSONDecoder().decode(Body.self, from: Data(buffer: body)))?.errors.first?.code
    }
}

/// Pushes a blob with one request and returns its digest.
@discardableResult
func pushBlob(_ client: any TestClientProtocol, _ name: String, _ content: [UInt8], headers: HTTPFields = [:]) async throws
    -> String
{
    let digest = DigestHasher.digest(of: content).description
    try await client.execute(
        uri: "/v2/\(name)/blobs/uploads/?digest=\(digest)", method: .post, headers: headers,
        body: ByteBuffer(bytes: content)
    ) { response in
        precondition(response.status == .created, "blob push answered \(response.status)")
    }
    return digest
}
