import Testing

@testable import RegistryCore

/// The keys of the operations settings: the debug listener, drain time, log format.
@Suite struct OperationsConfigurationTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: environment)
    }

    @Test func readsTheDebugListener() throws {
        let result = try load(
            """
            http:
              addr: :5000
              draintimeout: 5s
              debug:
                addr: localhost:5001
                prometheus:
                  enabled: true
                  path: /m
            log:
              formatter: json
            """)
        let debug = try #require(result.configuration.http.debug)
        #expect(debug == .init(host: "localhost", port: 5001, prometheusEnabled: true, prometheusPath: "/m"))
        #expect(result.configuration.http.drainTimeout == .seconds(5))
        #expect(result.configuration.log.formatter == .json)
        #expect(result.warnings.isEmpty)
    }

    @Test func debugListenerIsOffWithoutAnAddress() throws {
        let result = try load("http:\n  debug:\n    prometheus:\n      enabled: true\n")
        #expect(result.configuration.http.debug == nil)
        #expect(try load("version: 0.1\n").configuration.http.debug == nil)
    }

    @Test func debugPrometheusDefaultsAndEnvironment() throws {
        let result = try load(
            "version: 0.1\n",
            ["REGISTRY_HTTP_DEBUG_ADDR": "127.0.0.1:5001", "REGISTRY_HTTP_DEBUG_PROMETHEUS_ENABLED": "true"])
        #expect(result.configuration.http.debug == .init(host: "127.0.0.1", port: 5001, prometheusEnabled: true))
        #expect(result.configuration.http.debug?.prometheusPath == "/metrics")
    }

    @Test func badDebugSettingsNameTheirKey() {
        #expect(throws: ConfigurationError.self) { try load("http:\n  debug:\n    addr: nonsense\n") }
        do {
            _ = try load("http:\n  debug:\n    addr: :5001\n    prometheus:\n      path: metrics\n")
            Issue.record("a relative metrics path must be refused")
        } catch {
            #expect(error.key == "http.debug.prometheus.path")
        }
    }
}
