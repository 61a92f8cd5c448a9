import Foundation
import Testing

@testable import RegistryCore

/// The envelope and events as Distribution's `notifications/event.go` writes them.
@Suite struct RegistryEventTests {
    let event = RegistryEvent(
        id: "4f5b4c7e-0d5c-4a7a-a0b4-9f5e0f1e2a3b", timestamp: Date(timeIntervalSince1970: 1_767_225_600.25),
        action: .push,
        target: .init(
            mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:" + String(repeating: "a", count: 64),
            size: 528, repository: "team/app", url: "https://registry.example.com/v2/team/app/manifests/sha256:aa",
            tag: "v1"),
        request: .init(id: "req-1", addr: "10.0.0.7", host: "registry.example.com", method: "PUT", useragent: "docker/27.0"),
        actor: .init(name: "alice"), source: .init(addr: "node1:5000", instanceID: "inst-1"))

    func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func envelopeHasDistributionsFieldNames() throws {
        let envelope = try json(try EventEnvelope(events: [event]).encoded())
        #expect(Array(envelope.keys) == ["events"])
        let events = try #require(envelope["events"] as? [[String: Any]])
        let first = try #require(events.first)
        #expect(Set(first.keys) == ["id", "timestamp", "action", "target", "request", "actor", "source"])
        #expect(first["action"] as? String == "push")
        #expect(first["timestamp"] as? String == "2026-01-01T00:00:00.250Z")
        let target = try #require(first["target"] as? [String: Any])
        #expect(Set(target.keys) == ["mediaType", "digest", "size", "length", "repository", "url", "tag"])
        #expect(target["size"] as? Int == 528)
        #expect(target["length"] as? Int == 528)
        let request = try #require(first["request"] as? [String: String])
        #expect(request == ["id": "req-1", "addr": "10.0.0.7", "host": "registry.example.com", "method": "PUT", "useragent": "docker/27.0"])
        #expect(first["actor"] as? [String: String] == ["name": "alice"])
        #expect(first["source"] as? [String: String] == ["addr": "node1:5000", "instanceID": "inst-1"])
        #expect(EventEnvelope.mediaType == "application/vnd.docker.distribution.events.v1+json")
    }

    @Test func deleteTargetsOmitWhatTheyDoNotKnow() throws {
        var delete = event
        delete.action = .delete
        delete.target = .init(repository: "team/app", tag: "v1")
        delete.actor = .init(name: nil)
        let encoded = try json(try delete.encoded())
        #expect(encoded["target"] as? [String: String] == ["repository": "team/app", "tag": "v1"])
        #expect((encoded["actor"] as? [String: Any])?.isEmpty == true)
        // Slashes in media types and URLs are written as they are.
        #expect(!String(decoding: try event.encoded(), as: UTF8.self).contains("\\/"))
    }

    @Test func roundTripsThroughTheOutboxForm() throws {
        #expect(try RegistryEvent.decode(try event.encoded()) == event)
        // Go writes nanoseconds and offsets; both are read.
        let go = #"{"id":"x","timestamp":"2026-01-01T01:00:00.123456789+01:00","action":"pull","target":{},"request":{"id":"","method":"GET","useragent":""},"actor":{},"source":{}}"#
        let decoded = try RegistryEvent.decode(Data(go.utf8))
        #expect(abs(decoded.timestamp.date.timeIntervalSince1970 - 1_767_225_600.123) < 0.001)
    }
}
