import Foundation
import Testing

@testable import RegistryCore

/// `berth.retention` and the decisions of a policy.
@Suite struct RetentionTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func digest(_ n: Int) -> Digest { DigestHasher.digest(of: Array("manifest \(n)".utf8)) }

    func tag(_ name: String, _ n: Int, pushedDaysAgo: Double, pulledDaysAgo: Double? = nil) -> RetainedTag {
        RetainedTag(
            name: name, digest: digest(n), pushedAt: now - pushedDaysAgo * 86400,
            pulledAt: pulledDaysAgo.map { now - $0 * 86400 })
    }

    @Test func readsPolicies() throws {
        let result = try ConfigurationLoader(file: "config.yml", baseDirectory: "/").load(
            yaml: """
                berth:
                  retention:
                    enabled: true
                    schedule: 24h
                    untaggedgrace: 1h
                    policies:
                      - repositories: ["ci/*", builds]
                        keeplast: 3
                        keeptags: ['v\\d+', latest]
                        keeppushedwithin: 168h
                        keeppulledwithin: 720h
                """, environment: [:])
        let retention = result.configuration.berth.retention
        #expect(retention.enabled && retention.schedule == .seconds(86400) && retention.untaggedGrace == .seconds(3600))
        let policy = try #require(retention.policies.first)
        #expect(policy.repositories == ["ci/*", "builds"])
        #expect(policy.keepLast == 3 && policy.keepPatterns == [#"v\d+"#, "latest"])
        #expect(policy.keepPushedWithin == .seconds(168 * 3600) && policy.keepPulledWithin == .seconds(720 * 3600))
        #expect(policy.covers("ci/app") && policy.covers("builds") && !policy.covers("team/app"))
        #expect(result.warnings.isEmpty)
    }

    @Test func refusesABadPattern() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader(file: "config.yml", baseDirectory: "/").load(
                yaml: "berth:\n  retention:\n    policies:\n      - {repositories: a, keeptags: ['(']}\n", environment: [:])
        }
    }

    @Test func keepsByEachRuleAndSaysWhy() throws {
        var policy = RetentionPolicy(repositories: ["*"])
        policy.keepLast = 2
        policy.keepPatterns = [#"v\d+\.\d+"#]
        policy.keepPulledWithin = .seconds(7 * 86400)
        let tags = [
            tag("newest", 1, pushedDaysAgo: 1), tag("second", 2, pushedDaysAgo: 2), tag("third", 3, pushedDaysAgo: 3),
            tag("v1.2", 4, pushedDaysAgo: 100), tag("v1.2-rc", 5, pushedDaysAgo: 100),
            tag("pulled", 6, pushedDaysAgo: 50, pulledDaysAgo: 1), tag("stale", 7, pushedDaysAgo: 50, pulledDaysAgo: 30),
        ]
        let decisions = try RetentionPlan(policy).decide(repository: "ci/app", tags: tags, needed: [:], now: now)
        let kept = Dictionary(uniqueKeysWithValues: decisions.map { ($0.tag, $0.keep) })
        #expect(kept == [
            "newest": true, "second": true, "third": false, "v1.2": true, "v1.2-rc": false, "pulled": true, "stale": false,
        ])
        let third = try #require(decisions.first { $0.tag == "third" })
        #expect(third.reason == "not among the 2 most recently pushed, matches no kept pattern, not pulled within 7d")
        #expect(decisions.first { $0.tag == "v1.2" }?.reason == #"matches v\d+\.\d+"#)
    }

    @Test func neverStrandsWhatAnIndexOrAReferrerNeeds() throws {
        var policy = RetentionPolicy(repositories: ["*"])
        policy.keepLast = 1
        let tags = [tag("index", 1, pushedDaysAgo: 1), tag("child", 2, pushedDaysAgo: 5), tag("old", 3, pushedDaysAgo: 9)]
        let decisions = try RetentionPlan(policy).decide(
            repository: "app", tags: tags, needed: [digest(2): "index \(digest(1))"], now: now)
        #expect(decisions.map(\.keep) == [true, true, false])
        #expect(decisions[1].reason == "needed by index \(digest(1))")
    }

    @Test func aPolicyWithoutRulesKeepsEverything() throws {
        let decisions = try RetentionPlan(RetentionPolicy(repositories: ["*"])).decide(
            repository: "app", tags: [tag("a", 1, pushedDaysAgo: 999)], needed: [:], now: now)
        #expect(decisions.map(\.keep) == [true])
    }
}
