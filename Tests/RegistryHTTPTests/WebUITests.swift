import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RegistryCore
import RegistryService
import Testing

@testable import RegistryHTTP
@testable import RegistryUI

/// The web UI in process: each page's content, escaping of what images carry, the access
/// rules, CSRF and session checks.
@Suite struct WebUITests {
    static let hostile = "<script>window.__pwned=1</script>"

    /// Alice may pull and delete in team/*, bob may pull in other/*; nobody else signs in.
    static func signedInRegistry(deleteEnabled: Bool = true, anonymousPull: Bool = false) -> TestRegistry {
        var registry = TestRegistry()
        registry.configuration.storage.deleteEnabled = deleteEnabled
        let policy = AccessPolicy(
            anonymousPull: anonymousPull,
            rules: [
                .init(repository: "team/*", users: ["alice"], actions: [.pull, .delete]),
                .init(repository: "other/*", users: ["bob"], actions: [.pull]),
            ])
        registry.ui = WebUISettings(
            signIn: .htpasswd(verify: { user, password, _ in
                (user == "alice" && password == "alice-pw") || (user == "bob" && password == "bob-pw")
                    ? .accepted : .refused
            }), policy: policy, secret: "test-secret", secureCookies: false, version: "9.9.9",
            health: { StoreHealth() })
        return registry
    }

    static func openRegistry() -> TestRegistry {
        var registry = TestRegistry()
        registry.ui = WebUISettings(
            signIn: .open, policy: AccessPolicy(), secret: nil, secureCookies: false, version: "9.9.9",
            health: { StoreHealth(storage: nil, database: "database does not answer") })
        return registry
    }

    @Test func pagesShowRepositoriesTagsAndImageFieldsWithSecurityHeaders() async throws {
        try await Self.openRegistry().test { client in
            let digest = try await pushImage(client, "team/app", tag: "v1")
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/")
            }
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentSecurityPolicy] == UIResponse.contentSecurityPolicy)
                #expect(response.headers[.init("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.init("Referrer-Policy")!] == "same-origin")
                #expect(response.headers[.cacheControl] == "no-store")
                let body = String(buffer: response.body)
                #expect(body.contains("href=\"/ui/repository?name=team%2Fapp\""))
                #expect(!body.contains("<script>"))
            }
            try await client.execute(uri: "/ui/repository?name=team/app", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(body.contains("data-copy=\"docker pull"))
                #expect(body.contains(":v1\""))
                #expect(body.contains(Format.shortDigest(digest)))
                #expect(body.contains("linux/amd64"))
                #expect(body.contains("<td>image</td>"))
            }
            try await client.execute(uri: "/ui/image?name=team/app&ref=v1", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(body.contains("PATH=/usr/bin"))
                #expect(body.contains("8080/tcp"))
                #expect(body.contains("<code>/bin/server</code>"))
                #expect(body.contains("<code>--port 8080</code>"))
                #expect(body.contains("application/vnd.oci.image.layer.v1.tar+gzip"))
                // Hostile labels and history render as text.
                #expect(body.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"))
                #expect(!body.contains(Self.hostile))
                #expect(!body.contains("<img src=x"))
                #expect(body.contains("<details id=\"raw-manifest\">"))
            }
            try await client.execute(uri: "/ui/image?name=team/app&ref=nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/ui/status", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("9.9.9"))
                #expect(body.contains("database does not answer"))
            }
            try await client.execute(uri: "/ui/static/berth.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/javascript") == true)
            }
        }
    }

    @Test func theRepositoryFilterSearchesEveryPage() async throws {
        try await Self.openRegistry().test { client in
            for index in 0..<60 { try await pushBlob(client, String(format: "repo%02d", index), Array("x\(index)".utf8)) }
            try await pushBlob(client, "zeta/needle", Array("n".utf8))
            try await client.execute(uri: "/ui/", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("repo49"))
                #expect(!body.contains("repo50"))
                #expect(body.contains("id=\"next-page\""))
            }
            try await client.execute(uri: "/ui/?q=needle", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("zeta/needle"))
                #expect(!body.contains("repo01"))
            }
            try await client.execute(uri: "/ui/?q=&last=repo49", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("repo50"))
                #expect(!body.contains("repo49<"))
            }
        }
    }

    @Test func anonymousVisitorsAreSentToSignInAndUsersSeeOnlyWhatTheyMayPull() async throws {
        try await Self.signedInRegistry().test { client in
            try await pushImage(client, "team/app", tag: "v1")
            try await pushImage(client, "other/tool", tag: "v1")
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/login?next=%2Fui%2F")
            }
            let bad = try await signIn(client, user: "alice", password: "wrong")
            #expect(bad == nil)
            let alice = try #require(try await signIn(client, user: "alice", password: "alice-pw"))
            try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: alice]) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("team/app"))
                #expect(!body.contains("other/tool"))
                #expect(body.contains("alice"))
            }
            try await client.execute(uri: "/ui/repository?name=other/tool", method: .get, headers: [.cookie: alice]) {
                #expect($0.status == .notFound)
            }
            let bob = try #require(try await signIn(client, user: "bob", password: "bob-pw"))
            try await client.execute(uri: "/ui/repository?name=other/tool", method: .get, headers: [.cookie: bob]) {
                response in
                #expect(response.status == .ok)
                // Bob may not delete: no delete links.
                #expect(!String(buffer: response.body).contains("/ui/delete?"))
            }
        }
    }

    @Test func anonymousPullLetsVisitorsBrowseWithoutSigningIn() async throws {
        try await Self.signedInRegistry(anonymousPull: true).test { client in
            try await pushImage(client, "team/app", tag: "v1")
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("team/app"))
                #expect(String(buffer: response.body).contains("id=\"sign-in\""))
            }
        }
    }

    @Test func aCookieSignedWithAnotherKeyOrExpiredIsRefused() async throws {
        try await Self.signedInRegistry().test { client in
            let forged = SessionSigner(secret: "another-secret").session(user: "alice", expiry: Date() + 3600)
            try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: "berth_session=\(forged)"]) {
                #expect($0.status == .seeOther)
            }
            let expired = SessionSigner(secret: "test-secret").session(user: "alice", expiry: Date() - 10)
            try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: "berth_session=\(expired)"]) {
                #expect($0.status == .seeOther)
            }
            let good = SessionSigner(secret: "test-secret").session(user: "alice", expiry: Date() + 3600)
            try await client.execute(uri: "/ui/", method: .get, headers: [.cookie: "berth_session=\(good)"]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test func deletionNeedsAPostWithTheSessionsCSRFTokenFromThisOrigin() async throws {
        try await Self.signedInRegistry().test { client in
            try await pushImage(client, "team/app", tag: "v1")
            try await pushImage(client, "team/app", tag: "v2")
            let alice = try #require(try await signIn(client, user: "alice", password: "alice-pw"))
            let session = String(alice.dropFirst("berth_session=".count))
            let token = SessionSigner(secret: "test-secret").csrfToken(session: session)
            let otherToken = SessionSigner(secret: "test-secret").csrfToken(session: nil)
            var form: HTTPFields = [.cookie: alice, .contentType: "application/x-www-form-urlencoded"]
            // No token, another session's token, a cross-site origin: all refused.
            for (body, origin) in [
                ("name=team%2Fapp&ref=v1", nil), ("name=team%2Fapp&ref=v1&csrf=\(otherToken)", nil),
                ("name=team%2Fapp&ref=v1&csrf=\(token)", "https://evil.example"),
            ] as [(String, String?)] {
                form[.origin] = origin
                try await client.execute(uri: "/ui/delete", method: .post, headers: form, body: ByteBuffer(string: body)) {
                    #expect($0.status == .forbidden)
                }
            }
            form[.origin] = nil
            // A GET only asks for confirmation.
            try await client.execute(uri: "/ui/delete?name=team/app&ref=v1", method: .get, headers: [.cookie: alice]) {
                response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("registryctl gc"))
            }
            try await client.execute(uri: "/v2/team/app/manifests/v1", method: .head) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/ui/delete", method: .post, headers: form, body: ByteBuffer(string: "name=team%2Fapp&ref=v1&csrf=\(token)")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/repository?name=team%2Fapp&deleted=v1")
            }
            try await client.execute(uri: "/v2/team/app/manifests/v1", method: .head) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v2/team/app/manifests/v2", method: .head) { #expect($0.status == .ok) }
            // Signing out needs the token too.
            try await client.execute(uri: "/ui/logout", method: .post, headers: form, body: ByteBuffer(string: "")) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(
                uri: "/ui/logout", method: .post, headers: form, body: ByteBuffer(string: "csrf=\(token)")
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
        }
    }

    @Test func deletionIsRefusedWithoutTheRightOrWhenTurnedOff() async throws {
        for (registry, user, password, repository) in [
            (Self.signedInRegistry(), "bob", "bob-pw", "other/tool"),
            (Self.signedInRegistry(deleteEnabled: false), "alice", "alice-pw", "team/app"),
        ] {
            try await registry.test { client in
                try await pushImage(client, repository, tag: "v1")
                let cookie = try #require(try await signIn(client, user: user, password: password))
                let token = SessionSigner(secret: "test-secret").csrfToken(session: String(cookie.dropFirst("berth_session=".count)))
                try await client.execute(
                    uri: "/ui/delete", method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "name=\(repository)&ref=v1&csrf=\(token)")
                ) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/v2/\(repository)/manifests/v1", method: .head) { #expect($0.status == .ok) }
            }
        }
    }

    @Test func theSessionCookieIsHttpOnlySameSiteStrictAndScopedToTheUI() async throws {
        try await Self.signedInRegistry().test { client in
            try await client.execute(uri: "/ui/login", method: .get) { response in
                let token = try #require(csrfField(String(buffer: response.body)))
                try await client.execute(
                    uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "user=alice&password=alice-pw&next=%2F%2Fevil.example&csrf=\(token)")
                ) { response in
                    #expect(response.status == .seeOther)
                    // An outside "next" is ignored.
                    #expect(response.headers[.location] == "/ui/")
                    let cookie = response.headers[.setCookie] ?? ""
                    #expect(cookie.contains("HttpOnly"))
                    #expect(cookie.contains("SameSite=Strict"))
                    #expect(cookie.contains("Path=/ui"))
                }
            }
        }
    }

    @Test func withTokenAuthTheUIExplainsItNeedsHTPasswd() async throws {
        var registry = TestRegistry()
        registry.ui = WebUISettings(
            signIn: .token(realm: "https://auth.example/token"), policy: AccessPolicy(), secret: nil,
            secureCookies: true, version: "1", health: { StoreHealth() })
        try await registry.test { client in
            try await client.execute(uri: "/ui/", method: .get) { response in
                #expect(response.status == .notImplemented)
                #expect(String(buffer: response.body).contains("htpasswd"))
            }
        }
    }

    @Test func withoutTheUIItsPathsAreNotServed() async throws {
        try await TestRegistry().test { client in
            try await client.execute(uri: "/ui/", method: .get) { #expect($0.status == .notFound) }
        }
        let loaded = try ConfigurationLoader(file: "/tmp/berth-ui-config.yml", baseDirectory: "/tmp").load(
            yaml: "version: 0.1\nstorage: {filesystem: {rootdirectory: /tmp/x}}\nberth: {ui: {enabled: false, sessionlifetime: 1h}}\n",
            environment: [:])
        #expect(loaded.configuration.berth.ui.enabled == false)
        #expect(loaded.configuration.berth.ui.sessionLifetime == .seconds(3600))
    }
}

/// The CSRF token in a page's first form.
func csrfField(_ html: String) -> String? {
    guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
    let rest = html[range.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}

/// Signs in through the form; the `Cookie` header value of the session, or nil when refused.
func signIn(_ client: any TestClientProtocol, user: String, password: String) async throws -> String? {
    let page = try await client.execute(uri: "/ui/login", method: .get)
    let token = csrfField(String(buffer: page.body)) ?? ""
    let response = try await client.execute(
        uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
        body: ByteBuffer(string: "user=\(user)&password=\(password)&csrf=\(token)"))
    guard response.status == .seeOther, let cookie = response.headers[.setCookie] else { return nil }
    return cookie.split(separator: ";").first.map(String.init)
}

/// Pushes an OCI image whose config has hostile labels and history; returns its digest.
@discardableResult
func pushImage(_ client: any TestClientProtocol, _ name: String, tag: String) async throws -> String {
    let config: [String: Any] = [
        "architecture": "amd64", "os": "linux", "created": "2026-01-02T03:04:05Z",
        "config": [
            "Env": ["PATH=/usr/bin"], "Entrypoint": ["/bin/server"], "Cmd": ["--port", "8080"],
            "ExposedPorts": ["8080/tcp": [:] as [String: Any]],
            "Labels": ["evil": WebUITests.hostile, "img": "<img src=x onerror=alert(1)>"],
        ],
        "history": [["created_by": "/bin/sh -c echo '\(WebUITests.hostile)'"]],
        "rootfs": ["type": "layers", "diff_ids": ["sha256:" + String(repeating: "0", count: 64)]],
    ]
    let configBytes = Array(try JSONSerialization.data(withJSONObject: config))
    let layerBytes = Array("layer of \(name):\(tag)".utf8)
    let configDigest = try await pushBlob(client, name, configBytes)
    let layerDigest = try await pushBlob(client, name, layerBytes)
    let manifest: [String: Any] = [
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": configDigest, "size": configBytes.count],
        "layers": [["mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layerDigest, "size": layerBytes.count]],
    ]
    let bytes = Array(try JSONSerialization.data(withJSONObject: manifest))
    let response = try await client.execute(
        uri: "/v2/\(name)/manifests/\(tag)", method: .put,
        headers: [.contentType: "application/vnd.oci.image.manifest.v1+json"], body: ByteBuffer(bytes: bytes))
    precondition(response.status == .created, "manifest push answered \(response.status)")
    return DigestHasher.digest(of: bytes).description
}
