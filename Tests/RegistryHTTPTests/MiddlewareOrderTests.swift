import HTTPTypes
import HummingbirdTesting
import NIOCore
import RegistryCore
import RegistryService
import Synchronization
import Testing

@testable import RegistryHTTP

/// The middleware runs in the order ``RegistryRouter`` documents; each test fails if two of
/// them trade places.
@Suite struct MiddlewareOrderTests {
    @Test func aClientOverItsRateLimitCostsNoAuthentication() async throws {
        let authenticator = RecordingAuthenticator()
        var registry = TestRegistry()
        registry.authenticator = authenticator
        registry.limits.rateLimit = .init(requestsPerSecond: 0.001, burst: 2)
        try await registry.test { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v2/", method: .get) { #expect($0.status == .unauthorized) }
            }
            try await client.execute(uri: "/v2/", method: .get, headers: RecordingAuthenticator.headers) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.errorCode == "TOOMANYREQUESTS")
                #expect(response.headers[.retryAfter] != nil)
            }
            // Health is never limited.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
        #expect(authenticator.calls == 2)
    }

    @Test func theHealthGateSpeaksOnlyToAuthenticatedClients() async throws {
        var registry = TestRegistry()
        registry.authenticator = RecordingAuthenticator()
        registry.healthGates = true
        registry.health = { StoreHealth(storage: "storage is not writable") }
        try await registry.test { client in
            try await client.execute(uri: "/v2/", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v2/", method: .get, headers: RecordingAuthenticator.headers) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorCode == "UNAVAILABLE")
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("storage is not writable"))
            }
        }
    }

    @Test func everyAnswerCarriesTheRegistryHeadersAndIsLoggedWithItsUser() async throws {
        var registry = TestRegistry()
        registry.authenticator = RecordingAuthenticator()
        let logs = LogCapture()
        registry.logs = logs
        try await registry.test { client in
            for (path, headers) in [("/v2/", HTTPFields()), ("/v2/a/manifests/nope", RecordingAuthenticator.headers),
                                    ("/nowhere", HTTPFields())]
            {
                try await client.execute(uri: path, method: .get, headers: headers) { response in
                    #expect(response.headers[.init("Docker-Distribution-API-Version")!] == "registry/2.0")
                    #expect(response.headers[.init("X-Test")!] == "yes")
                }
            }
        }
        let lines = logs.all
        #expect(lines.contains { $0.hasPrefix("GET /v2/ 401") && $0.contains("user=-") })
        #expect(lines.contains { $0.hasPrefix("GET /v2/a/manifests/nope 404") && $0.contains("user=user") })
        #expect(lines.contains { $0.hasPrefix("GET /nowhere 404") })
    }
}

/// `/healthz` is open to everyone, so it must not make the server probe (write and fsync) at will.
@Suite struct HealthMonitorTests {
    @Test func healthIsProbedAtMostOncePerFreshnessWindow() async throws {
        let probes = Mutex(0)
        let monitor = HealthMonitor(
            check: {
                probes.withLock { $0 += 1 }
                try? await Task.sleep(for: .milliseconds(20))
                return StoreHealth()
            }, interval: .seconds(3600), threshold: 1, logger: .init(label: "test"))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { _ = await monitor.report() } }
        }
        #expect(probes.withLock { $0 } == 1)
        try await Task.sleep(for: HealthMonitor.freshness + .milliseconds(50))
        _ = await monitor.report()
        #expect(probes.withLock { $0 } == 2)
    }
}
