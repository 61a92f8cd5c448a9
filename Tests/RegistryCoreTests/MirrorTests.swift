import Testing

@testable import RegistryCore

/// `proxy:` and `berth.mirrors`, which upstream a name belongs to, and upstream challenges.
@Suite struct MirrorTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: environment)
    }

    @Test func readsDistributionsProxySection() throws {
        let result = try load(
            """
            proxy:
              remoteurl: https://registry-1.docker.io/
              username: someone
              password: secret
              ttl: 24h
            """)
        let mirror = try #require(result.configuration.mirrors.first)
        #expect(mirror.prefix == "")
        #expect(mirror.remoteURL == "https://registry-1.docker.io")
        #expect(mirror.username == "someone" && mirror.password == "secret")
        #expect(mirror.expiry == .seconds(24 * 3600))
        #expect(mirror.tagTTL == .zero)
        #expect(result.warnings.isEmpty)
    }

    @Test func proxyOverriddenFromTheEnvironment() throws {
        let result = try load("version: 0.1\n", ["REGISTRY_PROXY_REMOTEURL": "http://upstream.example:5000"])
        #expect(result.configuration.mirrors.map(\.remoteURL) == ["http://upstream.example:5000"])
    }

    @Test func readsBerthMirrors() throws {
        let result = try load(
            """
            berth:
              mirrors:
                - prefix: docker.io/
                  url: https://registry-1.docker.io
                  default: true
                  ttl: 5m
                  expiry: 720h
                - prefix: internal
                  url: https://registry.internal:5000
                  username: mirror
                  password: pw
                  ca: certs/ca.pem
                  insecure: false
            """)
        let mirrors = result.configuration.mirrors
        #expect(mirrors.map(\.prefix) == ["docker.io", "internal"])
        #expect(mirrors[0].isDefault && !mirrors[1].isDefault)
        #expect(mirrors[0].tagTTL == .seconds(300) && mirrors[0].expiry == .seconds(720 * 3600))
        #expect(mirrors[1].caBundle == "/etc/registry/certs/ca.pem")
        #expect(result.warnings.isEmpty)
    }

    @Test(arguments: [
        ("berth:\n  mirrors:\n    - {prefix: a, url: 'ftp://x.example'}\n", "URL"),
        ("berth:\n  mirrors:\n    - {url: 'http://x.example'}\n", "prefix"),
        ("berth:\n  mirrors:\n    - {prefix: 'A B', url: 'http://x.example'}\n", "prefix"),
        ("berth:\n  mirrors:\n    - {prefix: a, url: 'http://x.example', username: u}\n", "together"),
        ("berth:\n  mirrors:\n    - {prefix: a, url: 'http://x.example'}\n    - {prefix: a/b, url: 'http://y.example'}\n", "overlap"),
        ("berth:\n  mirrors: {prefix: a}\n", "list"),
    ])
    func refusesBadMirrors(yaml: String, message: String) {
        #expect {
            try load(yaml)
        } throws: { error in
            (error as? ConfigurationError).map { "\($0)".contains(message) } ?? false
        }
    }

    @Test func routesNamesByPrefix() throws {
        var hub = RegistryConfiguration.Mirror(prefix: "docker.io", remoteURL: "https://registry-1.docker.io")
        hub.isDefault = true
        let table = MirrorTable([hub, .init(prefix: "ghcr.io", remoteURL: "https://ghcr.io")])
        let alpine = try RepositoryName("docker.io/alpine")
        #expect(table.route(alpine) == .init(mirror: 0, remoteName: "library/alpine", localName: alpine))
        let tool = try RepositoryName("ghcr.io/org/tool")
        #expect(table.route(tool) == .init(mirror: 1, remoteName: "org/tool", localName: tool))
        #expect(table.route(try RepositoryName("team/app")) == nil)
        #expect(table.route(try RepositoryName("docker.iox/app")) == nil)
        // The default answers unprefixed names, cached under its prefix.
        let library = try RepositoryName("library/alpine")
        #expect(table.defaultRoute(library)
            == .init(mirror: 0, remoteName: "library/alpine", localName: try RepositoryName("docker.io/library/alpine")))
        #expect(table.defaultRoute(tool) == nil)
    }

    @Test func proxyModeRoutesEveryName() throws {
        let table = MirrorTable([.init(remoteURL: "http://upstream.example:5000")])
        let name = try RepositoryName("anything/at/all")
        #expect(table.route(name) == .init(mirror: 0, remoteName: "anything/at/all", localName: name))
    }

    @Test func parsesChallenges() throws {
        let bearer = try #require(AuthChallenge(parsing:
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#))
        #expect(bearer.scheme == "bearer")
        #expect(bearer.parameters == [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
            "scope": "repository:library/alpine:pull",
        ])
        let basic = try #require(AuthChallenge(parsing: #"Basic realm="a \"quoted\" realm", charset=UTF-8"#))
        #expect(basic.scheme == "basic")
        #expect(basic.parameters == ["realm": #"a "quoted" realm"#, "charset": "UTF-8"])
        #expect(AuthChallenge(parsing: "   ") == nil)
    }

    @Test func mirroredManifestsDeferTheirReferences() throws {
        let manifest = try Manifest(bytes: Array(
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.utf8),
            contentType: nil)
        #expect(manifest.requiredBlobs.count == 1)
        let mirrored = manifest.fetchingReferencesLater()
        #expect(mirrored.requiredBlobs.isEmpty && mirrored.requiredChildren.isEmpty)
        #expect(mirrored.blobReferences.count == 1)
    }
}
