import Foundation

/// One registry event in Distribution's notification format (`notifications/event.go`):
/// the same field names and the same omissions, so that receivers written for Distribution
/// read it unchanged. It is also what the outbox stores, as this JSON.
public struct RegistryEvent: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, CaseIterable {
        case push, pull, mount, delete
    }

    /// What the event is about. A manifest push carries its media type, digest, size (and
    /// `length`, the same, for older receivers), the URL to fetch it and the tag; a delete
    /// only the repository and the digest or the tag, as Distribution's do.
    public struct Target: Codable, Sendable, Equatable {
        public var mediaType: String?
        public var digest: String?
        public var size: Int64?
        public var length: Int64?
        public var repository: String?
        public var fromRepository: String?
        public var url: String?
        public var tag: String?

        public init(
            mediaType: String? = nil, digest: String? = nil, size: Int64? = nil, repository: String? = nil,
            fromRepository: String? = nil, url: String? = nil, tag: String? = nil
        ) {
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
            self.length = size
            self.repository = repository
            self.fromRepository = fromRepository
            self.url = url
            self.tag = tag
        }
    }

    /// The HTTP request that caused the event.
    public struct Request: Codable, Sendable, Equatable {
        public var id: String
        public var addr: String?
        public var host: String?
        public var method: String
        public var useragent: String

        public init(id: String, addr: String?, host: String?, method: String, useragent: String) {
            self.id = id
            self.addr = addr
            self.host = host
            self.method = method
            self.useragent = useragent
        }
    }

    /// Who made the request: the authenticated user, absent for anonymous requests.
    public struct Actor: Codable, Sendable, Equatable {
        public var name: String?
        public init(name: String?) { self.name = name }
    }

    /// Which registry process generated the event.
    public struct Source: Codable, Sendable, Equatable {
        public var addr: String?
        public var instanceID: String?
        public init(addr: String?, instanceID: String?) {
            self.addr = addr
            self.instanceID = instanceID
        }
    }

    public var id: String
    public var timestamp: EventTimestamp
    public var action: Action
    public var target: Target
    public var request: Request
    public var actor: Actor
    public var source: Source

    public init(
        id: String = UUID().uuidString.lowercased(), timestamp: Date = Date(), action: Action, target: Target,
        request: Request, actor: Actor, source: Source
    ) {
        self.id = id
        self.timestamp = EventTimestamp(timestamp)
        self.action = action
        self.target = target
        self.request = request
        self.actor = actor
        self.source = source
    }
}

/// A time as Go's `time.Time` writes it in JSON (RFC 3339 with fractional seconds, UTC).
public struct EventTimestamp: Codable, Sendable, Equatable {
    public var date: Date

    public init(_ date: Date) { self.date = date }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not RFC 3339: \(text)"))
        }
        self.date = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.format(date))
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func parse(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}

/// The body of one POST to an endpoint: `{"events": [...]}`.
public struct EventEnvelope: Codable, Sendable, Equatable {
    /// Distribution's envelope media type, sent as the request's `Content-Type`.
    public static let mediaType = "application/vnd.docker.distribution.events.v1+json"

    public var events: [RegistryEvent]

    public init(events: [RegistryEvent]) { self.events = events }

    /// The JSON sent: keys in a stable order, slashes not escaped (media types and URLs).
    public func encoded() throws -> Data {
        try RegistryEvent.encoder.encode(self)
    }
}

extension RegistryEvent {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The event as the outbox stores it.
    public func encoded() throws -> Data { try Self.encoder.encode(self) }

    public static func decode(_ data: Data) throws -> RegistryEvent {
        try JSONDecoder().decode(RegistryEvent.self, from: data)
    }
}
