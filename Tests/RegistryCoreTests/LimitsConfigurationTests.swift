import Testing

@testable import RegistryCore

@Suite struct LimitsConfigurationTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> RegistryConfiguration {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry")
            .load(yaml: "version: 0.1\n" + yaml, environment: environment).configuration
    }

    @Test func defaults() throws {
        let limits = try load("").berth.limits
        #expect(limits.manifestSize == 4 * 1024 * 1024)
        #expect(limits.concurrentUploads == 256)
        #expect(limits.rateLimit == nil)
        #expect(limits.readTimeout == .seconds(60))
        #expect(limits.idleTimeout == .seconds(120))
        // The defaults README.md documents.
        #expect(limits.authFailures == 10)
        #expect(limits.minBodyRate == 1024)
        #expect(limits.minBodyRatePeriod == .seconds(30))
        #expect(limits.connectionsPerClient == 128)
    }

    @Test func readsTheHardeningKeys() throws {
        let limits = try load(
            "berth:\n  limits:\n    authfailures: 0\n    minbodyrate: 512\n    minbodyrateperiod: 5s\n"
                + "    connectionsperclient: 16\n"
        ).berth.limits
        #expect(limits.authFailures == 0)
        #expect(limits.minBodyRate == 512)
        #expect(limits.minBodyRatePeriod == .seconds(5))
        #expect(limits.connectionsPerClient == 16)
        let overridden = try load(
            "", ["REGISTRY_BERTH_LIMITS_AUTHFAILURES": "3", "REGISTRY_BERTH_LIMITS_CONNECTIONSPERCLIENT": "0"]
        ).berth.limits
        #expect(overridden.authFailures == 3)
        #expect(overridden.connectionsPerClient == 0)
    }

    @Test func readsEveryKey() throws {
        let limits = try load(
            """
            berth:
              limits:
                manifestsize: 1048576
                concurrentuploads: 8
                ratelimit:
                  requestspersecond: 50
                  burst: 100
                readtimeout: 30s
                idletimeout: 5m
            """
        ).berth.limits
        #expect(limits.manifestSize == 1_048_576)
        #expect(limits.concurrentUploads == 8)
        #expect(limits.rateLimit == .init(requestsPerSecond: 50, burst: 100))
        #expect(limits.readTimeout == .seconds(30))
        #expect(limits.idleTimeout == .seconds(300))
    }

    @Test func burstDefaultsToOneSecondOfRequests() throws {
        let limits = try load("berth:\n  limits:\n    ratelimit:\n      requestspersecond: 2.5\n").berth.limits
        #expect(limits.rateLimit == .init(requestsPerSecond: 2.5, burst: 3))
    }

    @Test func environmentOverrides() throws {
        let limits = try load("", ["REGISTRY_BERTH_LIMITS_READTIMEOUT": "7s"]).berth.limits
        #expect(limits.readTimeout == .seconds(7))
    }

    @Test(arguments: [
        "manifestsize: 100", "manifestsize: big", "readtimeout: 0s", "idletimeout: forever",
        "ratelimit:\n      requestspersecond: 0", "ratelimit:\n      requestspersecond: 5\n      burst: 0",
        "authfailures: -1", "minbodyrate: fast", "minbodyrateperiod: 0s", "connectionsperclient: -5",
    ])
    func refusesBadValues(_ entry: String) {
        #expect(throws: ConfigurationError.self) { try load("berth:\n  limits:\n    \(entry)\n") }
    }
}
