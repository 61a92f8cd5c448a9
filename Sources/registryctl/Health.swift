import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import RegistryCommandLine
import RegistryCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask the local registryd whether it is healthy (for HEALTHCHECK and monitoring).",
        discussion: """
            Sends GET /healthz to http.addr (0.0.0.0 and :: mean this host), over HTTPS when \
            http.tls is set. With http.tls and http.debug.addr it asks /debug/health on the debug \
            listener instead; with http.tls.clientcas (a client certificate required) and no debug \
            listener, it only checks that http.addr accepts connections. Exit status 0 healthy, \
            1 not, 2 bad configuration.
            """)

    @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
    var config: String?

    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout = 5

    func run() async throws {
        let configuration: RegistryConfiguration
        do {
            configuration = try ConfigurationFile.load(path: config).configuration
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        let http = configuration.http
        let probe: HealthProbe
        if let tls = http.tls {
            if let debug = http.debug {
                probe = HealthProbe(tls: false, host: debug.host, port: debug.port, path: "/debug/health")
            } else if !tls.clientCAs.isEmpty {
                // Without a client certificate the server ends the handshake: connecting is all we can check.
                probe = HealthProbe(tls: true, host: http.host, port: http.port, path: nil)
            } else {
                probe = HealthProbe(tls: true, host: http.host, port: http.port, path: "/healthz")
            }
        } else {
            probe = HealthProbe(tls: false, host: http.host, port: http.port, path: "/healthz")
        }
        do {
            let answer = try await probe.run(timeout: .seconds(Int64(max(timeout, 1))))
            print(answer)
        } catch {
            Console.error("unhealthy: \(error)")
            throw ExitCode.failure
        }
    }
}

/// One GET with AsyncHTTPClient, or (with no path) only a TCP connect.
///
/// Over HTTPS the server's certificate is not verified. The probe goes to an address this host
/// listens on (the kernel keeps such traffic on the host, loopback or not), sends no credentials
/// and reads only a status code; and the configuration names no CA for the server certificate,
/// which need not name 127.0.0.1 either, so verifying would report healthy servers as unhealthy.
struct HealthProbe {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var tls: Bool
    var host: String
    var port: Int
    /// Nil: only connect.
    var path: String?

    /// The address to ask: a wildcard listener is asked on loopback.
    var target: String { host == "0.0.0.0" || host.isEmpty ? "127.0.0.1" : host == "::" ? "::1" : host }
    var authority: String { target.contains(":") ? "[\(target)]:\(port)" : "\(target):\(port)" }

    /// Returns what answered; throws unless the answer is 200.
    func run(timeout: TimeAmount) async throws -> String {
        guard let path else {
            try await connect(timeout: timeout)
            return "\(authority) accepts connections"
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: timeout, read: timeout)
        configuration.redirectConfiguration = .disallow
        // Fail at once when nothing listens, instead of retrying until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        if tls {
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = .none
            configuration.tlsConfiguration = settings
        }
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            let answer = try await get(path, client: client, timeout: timeout)
            try await client.shutdown()
            return answer
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func get(_ path: String, client: HTTPClient, timeout: TimeAmount) async throws -> String {
        let url = "\(tls ? "https" : "http")://\(authority)\(path)"
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(url: url), timeout: timeout)
        } catch {
            throw Failure(description: Self.explain(error, url: url, authority: authority))
        }
        _ = try? await response.body.collect(upTo: 65536)
        let status = "\(response.version) \(response.status.code) \(response.status.reasonPhrase)"
        guard response.status == .ok else {
            throw Failure(description: "GET \(url) answered \"\(status)\"")
        }
        return "\(status) from \(url)"
    }

    private func connect(timeout: TimeAmount) async throws {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(timeout)
        do {
            let channel = try await bootstrap.connect(host: target, port: port).get()
            try? await channel.close()
        } catch {
            throw Failure(description: Self.explain(error, url: nil, authority: authority))
        }
    }

    /// A one-line reason: "cannot connect to …" when no connection was made.
    static func explain(_ error: any Error, url: String?, authority: String) -> String {
        switch error {
        case let error as NIOConnectionError:
            let reasons = error.connectionErrors.map { reason($0.error) }
            let why = reasons.isEmpty ? "\(error)" : Set(reasons).sorted().joined(separator: "; ")
            return "cannot connect to \(authority): \(why)"
        case let error as IOError:
            return "cannot connect to \(authority): \(reason(error))"
        case let error as HTTPClientError where error == .connectTimeout:
            return "cannot connect to \(authority): no connection within the timeout"
        case let error as ChannelError:
            if case .connectTimeout = error {
                return "cannot connect to \(authority): no connection within the timeout"
            }
            return "GET \(url ?? authority) failed: \(error)"
        case is NIOSSLError, is BoringSSLError:
            return "TLS handshake with \(authority) failed: \(error)"
        default:
            return "GET \(url ?? authority) failed: \(error)"
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError {
            return "\(String(cString: strerror(error.errnoCode)).lowercased()) (errno \(error.errnoCode))"
        }
        return "\(error)"
    }
}
