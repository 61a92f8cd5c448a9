import Foundation
import Testing

@testable import RegistryCore

/// `notifications.endpoints`, with Distribution's keys and meanings.
@Suite struct NotificationsConfigurationTests {
    func load(_ yaml: String) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: [:])
    }

    @Test func readsDistributionsExample() throws {
        let result = try load(
            """
            notifications:
              events:
                includereferences: true
              endpoints:
                - name: alistener
                  disabled: false
                  url: https://my.listener.com/event
                  headers:
                    Authorization: [Bearer secret-token]
                    X-Many: [one, two]
                    X-One: single
                  timeout: 1s
                  threshold: 10
                  backoff: 1s
                  ignoredmediatypes:
                    - application/octet-stream
                  ignore:
                    mediatypes:
                      - application/vnd.oci.image.config.v1+json
                    actions:
                      - pull
                - name: off
                  url: http://127.0.0.1:9/
                  disabled: true
            """)
        let endpoints = result.configuration.notifications.endpoints
        #expect(endpoints.count == 1)
        let endpoint = try #require(endpoints.first)
        #expect(endpoint.name == "alistener")
        #expect(endpoint.url == "https://my.listener.com/event")
        #expect(endpoint.headers.map(\.name) == ["Authorization", "X-Many", "X-Many", "X-One"])
        #expect(endpoint.headers.map(\.value) == ["Bearer secret-token", "one", "two", "single"])
        #expect(endpoint.timeout == .seconds(1))
        #expect(endpoint.threshold == 10)
        #expect(endpoint.backoff == .seconds(1))
        #expect(endpoint.ignoredMediaTypes == ["application/octet-stream", "application/vnd.oci.image.config.v1+json"])
        #expect(endpoint.ignoredActions == ["pull"])
        // `notifications.events` (includereferences) is not supported: a warning, not an error.
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.contains("notifications.events") == true)
        #expect(result.configuration.notifications.isEnabled)
    }

    @Test func absentMeansOff() throws {
        let result = try load("version: 0.1\n")
        #expect(!result.configuration.notifications.isEnabled)
        #expect(result.warnings.isEmpty)
    }

    @Test func defaults() throws {
        let endpoint = try #require(
            try load("notifications:\n  endpoints:\n    - name: a\n      url: http://hooks.local/x\n")
                .configuration.notifications.endpoints.first)
        #expect(endpoint.timeout == .seconds(1))
        #expect(endpoint.threshold == 10)
        #expect(endpoint.backoff == .seconds(1))
        #expect(endpoint.headers.isEmpty)
    }

    @Test(arguments: [
        ("notifications:\n  endpoints:\n    - url: http://a/\n", "name"),
        ("notifications:\n  endpoints:\n    - name: a\n", "url"),
        ("notifications:\n  endpoints:\n    - name: a\n      url: ftp://a/\n", "url"),
        ("notifications:\n  endpoints:\n    - name: a\n      url: http://a/\n    - name: a\n      url: http://b/\n", "name"),
        ("notifications:\n  endpoints:\n    - name: a\n      url: http://a/\n      ignore:\n        actions: [pul]\n", "actions"),
        ("notifications:\n  endpoints:\n    - name: a\n      url: http://a/\n      threshold: -1\n", "threshold"),
        ("notifications:\n  endpoints:\n    - name: a\n      url: http://a/\n      timeout: soon\n", "timeout"),
        ("notifications:\n  endpoints: yes\n", "endpoints"),
    ])
    func refusesBadEndpoints(yaml: String, key: String) throws {
        #expect {
            try load(yaml)
        } throws: { error in
            "\(error)".contains(key)
        }
    }

    @Test func endpointFiltersEvents() {
        var endpoint = RegistryConfiguration.Endpoint(name: "a", url: "http://a/")
        endpoint.ignoredActions = ["pull"]
        endpoint.ignoredMediaTypes = ["application/octet-stream"]
        let request = RegistryEvent.Request(id: "r", addr: nil, host: nil, method: "GET", useragent: "")
        func event(_ action: RegistryEvent.Action, _ mediaType: String?) -> RegistryEvent {
            RegistryEvent(
                action: action, target: .init(mediaType: mediaType, repository: "x"), request: request,
                actor: .init(name: nil), source: .init(addr: nil, instanceID: nil))
        }
        #expect(!endpoint.wants(event(.pull, "application/vnd.oci.image.manifest.v1+json")))
        #expect(!endpoint.wants(event(.push, "application/octet-stream")))
        #expect(endpoint.wants(event(.push, "application/vnd.oci.image.manifest.v1+json")))
        // A delete names no media type: only its action can be ignored.
        #expect(endpoint.wants(event(.delete, nil)))
    }
}
