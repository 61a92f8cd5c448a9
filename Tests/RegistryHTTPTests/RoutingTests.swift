import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RegistryCore
import Testing

@testable import RegistryHTTP

@Suite struct RoutingTests {
    @Test func theAPIIsServedUnderHTTPPrefixWithLocationsUnderHTTPHost() async throws {
        var registry = TestRegistry()
        registry.configuration.http.prefix = "/registry/"
        registry.configuration.http.externalURL = "https://registry.example:5000"
        try await registry.test { client in
            try await client.execute(uri: "/registry/v2/", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v2/", method: .get) { #expect($0.status == .notFound) }
            let digest = DigestHasher.digest(of: Array("abc".utf8))
            try await client.execute(
                uri: "/registry/v2/team/app/blobs/uploads/?digest=\(digest)", method: .post, body: ByteBuffer(string: "abc")
            ) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "https://registry.example:5000/registry/v2/team/app/blobs/\(digest)")
            }
            try await client.execute(uri: "/registry/v2/team/app/blobs/\(digest)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "abc")
            }
        }
    }

    @Test func locationsAreRelativeWithoutHTTPHost() async throws {
        try await TestRegistry().test { client in
            try await client.execute(uri: "/v2/team/app/blobs/uploads/", method: .post) { response in
                #expect(response.status == .accepted)
                #expect(response.headers[.location]?.hasPrefix("/v2/team/app/blobs/uploads/") == true)
            }
        }
    }

    @Test func aRepositoryNamedLikeTheKeywordsIsServed() async throws {
        try await TestRegistry().test { client in
            let digest = try await pushBlob(client, "x/manifests/blobs", Array("tricky".utf8))
            try await client.execute(uri: "/v2/x/manifests/blobs/blobs/\(digest)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "tricky")
            }
        }
    }

    @Test func listingsAreJSONWithNextLinks() async throws {
        try await TestRegistry().test { client in
            for name in ["b", "a", "c"] { try await pushBlob(client, name, Array(name.utf8)) }
            try await client.execute(uri: "/v2/_catalog?n=2", method: .get) { response throws in
                let catalog = try JSONDecoder().decode(Catalog.self, from: Data(buffer: response.body))
                #expect(catalog.repositories == ["a", "b"])
                #expect(response.headers[.init("Link")!] == "</v2/_catalog?n=2&last=b>; rel=\"next\"")
            }
        }
    }
}

private struct Catalog: Decodable { var repositories: [String] }
