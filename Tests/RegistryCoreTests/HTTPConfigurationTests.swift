import Testing

@testable import RegistryCore

@Suite struct HTTPConfigurationTests {
    func load(_ yaml: String) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: [:])
    }

    @Test func prefixAndHostShapeTheURLs() throws {
        let result = try load(
            """
            http:
              addr: :5000
              prefix: /registry
              host: https://registry.example:5000/
            """)
        #expect(result.configuration.http.prefix == "/registry/")
        #expect(result.configuration.routePrefix == "/registry")
        #expect(result.configuration.http.externalURL == "https://registry.example:5000")
        #expect(result.warnings.isEmpty)
        #expect(try load("http:\n  prefix: /\n").configuration.routePrefix == "")
    }

    @Test func refusesAPrefixOrHostThatCannotBeServed() {
        #expect(throws: ConfigurationError.self) { try load("http:\n  prefix: registry\n") }
        #expect(throws: ConfigurationError.self) { try load("http:\n  host: registry.example:5000\n") }
        #expect(throws: ConfigurationError.self) { try load("http:\n  host: https://\n") }
    }

    @Test func settingsWithoutEffectAreWarnedAbout() throws {
        let result = try load(
            """
            http:
              secret: asecretforlocaldevelopment
              relativeurls: false
            """)
        #expect(result.warnings.count == 2)
        #expect(result.warnings.contains { $0.contains("http.secret") && $0.contains("no effect") })
        #expect(result.warnings.contains { $0.contains("http.relativeurls") })
        #expect(!result.warnings.joined().contains("asecretforlocaldevelopment"))
        #expect(try load("http:\n  relativeurls: true\n").warnings.isEmpty)
    }

    @Test func logLevelsAndTLSVersionsAreReadOnce() throws {
        #expect(try load("log:\n  level: WARN\n").configuration.log.level == .warning)
        #expect(try load("log:\n  level: fatal\n").configuration.log.level == .error)
        #expect(try load("loglevel: debug\n").configuration.log.level == .debug)
        #expect(throws: ConfigurationError.self) { try load("loglevel: loud\n") }
        #expect(try load("log:\n  formatter: logstash\n").configuration.log.formatter == .json)
        let tls = try load(
            "http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n    minimumtls: tls1.3\n").configuration.http.tls
        #expect(tls?.minimumTLS == .tls13)
        #expect(throws: ConfigurationError.self) {
            try load("http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n    minimumtls: tls1.1\n")
        }
    }
}
