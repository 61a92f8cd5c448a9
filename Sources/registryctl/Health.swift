import ArgumentParser
import Foundation
import RegistryCommandLine
import RegistryCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask the local registryd whether it is healthy (for HEALTHCHECK and monitoring).",
        discussion: """
            Sends GET /healthz to http.addr (0.0.0.0 and :: mean this host). With http.tls, it asks \
            /debug/health on http.debug.addr instead, or, without a debug listener, only checks that \
            http.addr accepts connections. Exit status 0 healthy, 1 not.
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
        if http.tls == nil {
            probe = HealthProbe(host: http.host, port: http.port, path: "/healthz")
        } else if let debug = http.debug {
            probe = HealthProbe(host: debug.host, port: debug.port, path: "/debug/health")
        } else {
            probe = HealthProbe(host: http.host, port: http.port, path: nil)
        }
        do {
            let answer = try probe.run(timeoutSeconds: timeout)
            print(answer)
        } catch {
            Console.error("unhealthy: \(error)")
            throw ExitCode.failure
        }
    }
}

/// One plain HTTP/1.0 GET over a blocking socket, enough for a health check without
/// linking an HTTP client into registryctl.
struct HealthProbe {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var host: String
    var port: Int
    /// Nil: only connect.
    var path: String?

    /// Returns the status line; throws unless the answer is 200.
    func run(timeoutSeconds: Int) throws -> String {
        let target = host == "0.0.0.0" || host.isEmpty ? "127.0.0.1" : host == "::" ? "::1" : host
        let fd = try connect(to: target, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        guard let path else { return "\(target):\(port) accepts connections" }
        let request = "GET \(path) HTTP/1.0\r\nHost: \(target):\(port)\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) == request.utf8.count else {
            throw Failure(description: "cannot send to \(target):\(port)")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(UInt8(ascii: "\n")), answer.count < 65536 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer += buffer[0..<count]
        }
        let statusLine = String(decoding: answer.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        guard statusLine.split(separator: " ").dropFirst().first == "200" else {
            throw Failure(description: "GET \(path) on \(target):\(port) answered \"\(statusLine)\"")
        }
        return "\(statusLine) from \(target):\(port)\(path)"
    }

    private func connect(to target: String, timeoutSeconds: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target, String(port), &hints, &list) == 0, let first = list else {
            throw Failure(description: "cannot resolve \(target)")
        }
        defer { freeaddrinfo(list) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            close(fd)
        }
        throw Failure(description: "cannot connect to \(target):\(port)")
    }
}
