import Testing

@testable import RegistryCore

@Suite struct AccessPolicyTests {
    let policy = AccessPolicy(
        anonymousPull: true, groups: ["devs": ["alice", "bob"]],
        rules: [
            .init(repository: "team/*", groups: ["devs"], actions: [.pull, .push]),
            .init(repository: "public", users: ["*"], actions: [.pull]),
            .init(repository: "ops/*/prod", users: ["carol"], actions: [.pull, .push, .delete]),
        ])

    func allows(_ user: String?, _ name: String, _ actions: [RegistryAction]) -> Bool {
        policy.allows(user, AccessScope(repository: name, actions: actions))
    }

    @Test func rulesGrantByUserGroupAndPattern() {
        #expect(allows("alice", "team/app", [.pull, .push]))
        #expect(allows("bob", "team/a/b", [.push]))
        #expect(!allows("alice", "team/app", [.delete]))
        #expect(!allows("alice", "teams/app", [.pull]))
        #expect(allows("dave", "public", [.pull]))
        #expect(!allows("dave", "public", [.push]))
        #expect(allows("carol", "ops/web/prod", [.delete]))
        #expect(!allows("carol", "ops/web/staging", [.pull]))
        #expect(policy.allows("dave", .catalog))
    }

    @Test func anonymousMayOnlyPull() {
        #expect(allows(nil, "team/app", [.pull]))
        #expect(!allows(nil, "team/app", [.pull, .push]))
        #expect(!policy.allows(nil, .catalog))
        #expect(!AccessPolicy().allows(nil, AccessScope(repository: "x", actions: [.pull])))
    }

    @Test func withoutRulesEverySignedInUserMayDoEverything() {
        #expect(AccessPolicy().allows("anyone", AccessScope(repository: "x", actions: [.pull, .push, .delete])))
    }

    @Test func globs() {
        #expect(AccessPolicy.matches("team/*", "team/a/b"))
        #expect(AccessPolicy.matches("*", "anything/at/all"))
        #expect(AccessPolicy.matches("a*b*c", "axxbyyc"))
        #expect(!AccessPolicy.matches("a*b*c", "axxc"))
        #expect(!AccessPolicy.matches("team/*", "team"))
        #expect(AccessPolicy.matches("exact", "exact"))
        #expect(!AccessPolicy.matches("exact", "exactly"))
    }
}

@Suite struct HTPasswdEntriesTests {
    static let bcrypt = "$2y$05$" + String(repeating: "a", count: 53)

    @Test func keepsBcryptAndRefusesTheRest() {
        let text = """
            # comment
            alice:\(Self.bcrypt)
            md5:$apr1$abc$def
            sha:{SHA}xyz

            bob:\(Self.bcrypt.replacingOccurrences(of: "$2y$", with: "$2b$"))
            """
        let entries = HTPasswdEntries(parsing: text)
        #expect(Set(entries.hashes.keys) == ["alice", "bob"])
        #expect(entries.refusedUsers == ["md5", "sha"])
    }

    @Test func replacingKeepsOrderAndOneLinePerUser() {
        let text = "a:1\nb:2\na:3\n"
        #expect(HTPasswdEntries.replacing(user: "a", hash: "x", in: text) == "a:x\nb:2\n")
        #expect(HTPasswdEntries.replacing(user: "c", hash: "y", in: text) == "a:1\nb:2\na:3\nc:y\n")
        #expect(HTPasswdEntries.replacing(user: "c", hash: "y", in: "") == "c:y\n")
    }
}

@Suite struct SecurityConfigurationTests {
    func load(_ yaml: String) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: [:])
    }

    @Test func readsTokenAndAccess() throws {
        let result = try load(
            """
            auth:
              token:
                realm: https://auth.example/token
                service: registry.example
                issuer: auth.example
                rootcertbundle: certs/bundle.pem
            berth:
              access:
                anonymous: pull
                groups:
                  devs: [alice]
                rules:
                  - repository: "team/*"
                    groups: [devs]
                    users: bob
                    actions: [pull, PUSH]
            """)
        let token = try #require(result.configuration.auth.token)
        #expect(token.rootCertBundle == "/etc/registry/certs/bundle.pem")
        #expect(token.service == "registry.example")
        let access = result.configuration.berth.access
        #expect(access.anonymousPull)
        #expect(access.rules == [.init(repository: "team/*", users: ["bob"], groups: ["devs"], actions: [.pull, .push])])
        #expect(result.warnings.isEmpty)
    }

    @Test func refusesBadSecuritySettings() {
        #expect(throws: ConfigurationError.self) { try load("auth:\n  token:\n    realm: x\n") }
        #expect(throws: ConfigurationError.self) {
            try load("auth:\n  htpasswd: {path: p}\n  token: {realm: r, service: s, issuer: i, rootcertbundle: b}\n")
        }
        #expect(throws: ConfigurationError.self) { try load("berth:\n  access:\n    anonymous: push\n") }
        #expect(throws: ConfigurationError.self) {
            try load("berth:\n  access:\n    rules:\n      - {repository: x, users: [a], actions: [fly]}\n")
        }
    }
}
