import HTTPTypes
import HummingbirdTesting
import RegistryCore
import Testing

@testable import RegistryHTTP

/// Every route declares the access it needs, and the authenticator is asked for exactly that.
@Suite struct AccessScopeTests {
    /// Path, method, the scopes asked for (as in the Docker token protocol).
    static let expectations: [(String, HTTPRequest.Method, [String])] = [
        ("/v2/", .get, []),
        ("/v2/", .head, []),
        ("/v2/_catalog", .get, ["registry:catalog:*"]),
        ("/v2/a/b/tags/list", .get, ["repository:a/b:pull"]),
        ("/v2/a/b/manifests/v1", .get, ["repository:a/b:pull"]),
        ("/v2/a/b/manifests/v1", .head, ["repository:a/b:pull"]),
        ("/v2/a/b/manifests/v1", .put, ["repository:a/b:pull,push"]),
        ("/v2/a/b/manifests/v1", .delete, ["repository:a/b:delete"]),
        ("/v2/a/blobs/sha256:00", .get, ["repository:a:pull"]),
        ("/v2/a/blobs/sha256:00", .head, ["repository:a:pull"]),
        ("/v2/a/blobs/sha256:00", .delete, ["repository:a:delete"]),
        ("/v2/a/blobs/uploads/", .post, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/?mount=sha256:00&from=b", .post, ["repository:a:pull,push", "repository:b:pull"]),
        ("/v2/a/blobs/uploads/?mount=sha256:00&from=a", .post, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/?from=b", .post, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/123", .get, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/123", .patch, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/123", .put, ["repository:a:pull,push"]),
        ("/v2/a/blobs/uploads/123", .delete, ["repository:a:pull,push"]),
        ("/v2/a/referrers/sha256:00", .get, ["repository:a:pull"]),
        // Repository names that end like keywords are matched from the end of the path.
        ("/v2/x/manifests/blobs/manifests/latest", .get, ["repository:x/manifests/blobs:pull"]),
        // Unknown paths and methods need credentials only; their 404 or 405 comes after.
        ("/v2/a/b/unknown", .get, []),
        ("/v2/a/b/manifests/v1", .post, []),
        ("/v2/_catalog", .delete, []),
    ]

    @Test func eachRequestAsksForItsRoutesScopes() async throws {
        let authenticator = RecordingAuthenticator()
        var registry = TestRegistry()
        registry.authenticator = authenticator
        try await registry.test { client in
            for (path, method, _) in Self.expectations {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .unauthorized, "\(method) \(path)")
                    #expect(response.headers[.wwwAuthenticate] == "Basic realm=\"test\"")
                }
            }
        }
        #expect(authenticator.scopesAsked == Self.expectations.map(\.2))
    }

    @Test func everyEndpointDeclaresItsAccessAndEveryRouteHasOne() {
        var served: [Route.Kind: Set<String>] = [:]
        for endpoint in APIEndpoint.table {
            #expect(!endpoint.methods.isEmpty)
            for method in endpoint.methods {
                #expect(served[endpoint.kind, default: []].insert(method.rawValue).inserted, "two rows for \(endpoint.kind) \(method)")
            }
        }
        #expect(Set(served.keys) == Set(Route.Kind.allCases))
        // Writes never get by on pull alone.
        for endpoint in APIEndpoint.table where endpoint.methods.contains(where: { $0 != .get && $0 != .head }) {
            switch endpoint.access {
            case .repository(let actions), .repositoryAndMountSource(let actions):
                #expect(actions.contains(.push) || actions.contains(.delete), "\(endpoint.kind) \(endpoint.methods)")
            case .authenticated, .catalog:
                Issue.record("\(endpoint.kind) writes with \(endpoint.access)")
            }
        }
    }

    @Test func anUnknownPathIsA404OnlyForThoseWhoMayAsk() async throws {
        var registry = TestRegistry()
        registry.authenticator = RecordingAuthenticator()
        try await registry.test { client in
            try await client.execute(uri: "/v2/a/b/unknown", method: .get, headers: RecordingAuthenticator.headers) { response in
                #expect(response.status == .notFound)
                #expect(response.errorCode == "UNSUPPORTED")
            }
            try await client.execute(uri: "/v2/a/b/manifests/v1", method: .post, headers: RecordingAuthenticator.headers) {
                response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.errorCode == "UNSUPPORTED")
            }
            // Outside the API nothing needs credentials: health is open, unknown paths are 404.
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/nothing/here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.errorCode == "UNSUPPORTED")
            }
        }
    }
}
