import Foundation
import Testing

@testable import RegistryCore

/// `http.tls.ciphersuites`, `berth.tls` and `berth.audit`.
@Suite struct SecurityHardeningConfigurationTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry")
            .load(yaml: "version: 0.1\n" + yaml, environment: environment)
    }

    func tls(_ lines: String) throws(ConfigurationError) -> RegistryConfiguration.TLS? {
        try load("http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n" + lines).configuration.http.tls
    }

    @Test func defaultProfileIsIntermediateWithoutCBCOrRSAKeyExchange() throws {
        let suites = try #require(try tls("")).cipherSuites
        #expect(suites == TLSCipherSuites.intermediate)
        #expect(suites.count == 6)
        for suite in suites {
            #expect(suite.hasPrefix("TLS_ECDHE_"))
            #expect(suite.contains("_GCM_") || suite.contains("CHACHA20"))
            #expect(!suite.contains("CBC"))
        }
    }

    @Test func ciphersuitesNarrowTheProfileAndIgnoreTLS13Names() throws {
        let result = try load(
            """
            http:
              tls:
                certificate: c.pem
                key: k.pem
                ciphersuites:
                  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
                  - TLS_AES_128_GCM_SHA256
                  - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305
            """)
        #expect(
            result.configuration.http.tls?.cipherSuites == [
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            ])
        #expect(result.warnings.isEmpty, "\(result.warnings)")
    }

    @Test func weakSuitesLoadWithAWarning() throws {
        let result = try load(
            "http:\n  tls:\n    certificate: c.pem\n    key: k.pem\n    ciphersuites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n")
        #expect(result.configuration.http.tls?.cipherSuites.first == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") == true)
    }

    @Test(arguments: ["[TLS_NOT_A_SUITE]", "[TLS_ECDHE_RSA_WITH_RC4_128_SHA]", "[TLS_AES_128_GCM_SHA256]"])
    func refusesUnknownUnsupportedOrEmptyLists(_ list: String) {
        #expect(throws: ConfigurationError.self) { try tls("    ciphersuites: \(list)\n") }
    }

    @Test func unknownSuiteErrorIsOneLineNamingKeyAndSuite() {
        do {
            _ = try tls("    ciphersuites: [TLS_BOGUS]\n")
            Issue.record("expected an error")
        } catch {
            let text = "\(error)"
            #expect(text.contains("http.tls.ciphersuites") && text.contains("TLS_BOGUS") && !text.contains("\n"))
        }
    }

    @Test func onlyTLS13NamesAreFineWhenTLS12IsOff() throws {
        let settings = try #require(try tls("    minimumtls: tls1.3\n    ciphersuites: [TLS_AES_256_GCM_SHA384]\n"))
        #expect(settings.cipherSuites == TLSCipherSuites.intermediate)
    }

    @Test func hstsDefaultsToTwoYearsAndCanBeTurnedOff() throws {
        let defaults = try load("").configuration.berth.hsts
        #expect(defaults.enabled && defaults.maxAge == 63_072_000)
        #expect(defaults.headerValue == "max-age=63072000")
        let off = try load("berth:\n  tls:\n    hsts: false\n").configuration.berth.hsts
        #expect(!off.enabled)
        let short = try load("berth:\n  tls:\n    hstsmaxage: 300\n").configuration.berth.hsts
        #expect(short.enabled && short.headerValue == "max-age=300")
        #expect(throws: ConfigurationError.self) { try load("berth:\n  tls:\n    hsts: maybe\n") }
        #expect(throws: ConfigurationError.self) { try load("berth:\n  tls:\n    hstsmaxage: -1\n") }
    }

    @Test func auditIsOffByDefaultAndReadsItsKeys() throws {
        #expect(try load("").configuration.berth.audit == nil)
        let audit = try #require(
            try load("berth:\n  audit:\n    path: logs/audit.log\n    maxsize: 10MiB\n    maxbackups: 3\n").configuration.berth.audit)
        #expect(audit.path == "/etc/registry/logs/audit.log")
        #expect(audit.maxSize == 10 * 1024 * 1024)
        #expect(audit.maxBackups == 3)
        let defaults = try #require(try load("berth:\n  audit:\n    path: /var/log/berth/audit.log\n").configuration.berth.audit)
        #expect(defaults.maxSize == 100 * 1024 * 1024 && defaults.maxBackups == 5)
        let fromEnvironment = try load("", ["REGISTRY_BERTH_AUDIT_PATH": "/tmp/a.log"]).configuration.berth.audit
        #expect(fromEnvironment?.path == "/tmp/a.log")
    }

    @Test(arguments: ["maxsize: 10", "maxsize: lots", "maxbackups: 0", "maxsize: 1MiB"])
    func auditRefusesBadValues(_ entry: String) {
        #expect(throws: ConfigurationError.self) { try load("berth:\n  audit:\n    \(entry)\n") }
        if entry != "maxsize: 1MiB" {
            #expect(throws: ConfigurationError.self) { try load("berth:\n  audit:\n    path: /a\n    \(entry)\n") }
        }
    }

    @Test func auditEventsRoundTripAsOneLineWithoutEmptyFields() throws {
        let time = Date(timeIntervalSince1970: 1_764_680_000.25)
        let event = AuditEvent(
            time: time, action: .manifestPush, user: "alice", client: "127.0.0.1", repository: "team/app",
            reference: "v1", digest: "sha256:" + String(repeating: "a", count: 64), status: 201)
        let line = try event.jsonLine()
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
        #expect(text.contains("\"time\":\"2025-12-02T12:53:20.250Z\""))
        #expect(text.contains("\"action\":\"manifest.push\""))
        #expect(!text.contains("source") && !text.contains("removed"))
        #expect(AuditEvent.parse(line: text.dropLast()) == event)
        #expect(AuditEvent.parse(line: text.prefix(40)) == nil)
    }
}
