import Foundation

/// One line of the audit trail: a state change or a refused login, who did it, from where,
/// and on what.
///
/// A value of RegistryCore so that registryd (which writes the trail), registryctl (which
/// writes gc runs and reads the trail) and the tests agree on one Codable shape. It carries
/// names and digests only, never a credential: the user of a failed login is the name the
/// client claimed, without its password or token.
public struct AuditEvent: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable, CaseIterable {
        /// A manifest pushed (`reference` is its tag when pushed by tag).
        case manifestPush = "manifest.push"
        case manifestDelete = "manifest.delete"
        /// `DELETE /v2/<name>/manifests/<tag>`: only the tag goes.
        case tagDelete = "tag.delete"
        /// A blob upload completed (monolithic or the final `PUT` of a session).
        case blobUpload = "blob.upload"
        /// A cross-repository mount (`source` is the `from` repository, if any).
        case blobMount = "blob.mount"
        case blobDelete = "blob.delete"
        /// A request with credentials that the server refused with 401.
        case loginFailed = "login.failed"
        /// A write that valid credentials were not allowed to make (403).
        case accessDenied = "access.denied"
        /// `registryctl gc`: one summary line, then one line per manifest and blob removed.
        case gcRun = "gc.run"
        case gcManifestDelete = "gc.manifest.delete"
        case gcBlobDelete = "gc.blob.delete"
    }

    /// Counts of a gc run.
    public struct Removed: Codable, Sendable, Equatable {
        public var manifests: Int
        public var blobs: Int
        public var bytes: Int64
        public var uploads: Int

        public init(manifests: Int, blobs: Int, bytes: Int64, uploads: Int) {
            self.manifests = manifests
            self.blobs = blobs
            self.bytes = bytes
            self.uploads = uploads
        }
    }

    public var time: Date
    public var action: Action
    public var user: String?
    /// The client's IP address; `local` for registryctl.
    public var client: String?
    public var repository: String?
    /// The tag, when the request named one.
    public var reference: String?
    public var digest: String?
    /// The HTTP status of the answer (gc: none).
    public var status: Int?
    /// A mount's `from` repository.
    public var source: String?
    public var removed: Removed?

    public init(
        time: Date = Date(), action: Action, user: String? = nil, client: String? = nil, repository: String? = nil,
        reference: String? = nil, digest: String? = nil, status: Int? = nil, source: String? = nil,
        removed: Removed? = nil
    ) {
        self.time = time
        self.action = action
        self.user = user
        self.client = client
        self.repository = repository
        self.reference = reference
        self.digest = digest
        self.status = status
        self.source = source
        self.removed = removed
    }
}

extension AuditEvent {
    /// RFC 3339 with milliseconds in UTC, e.g. `2026-12-02T12:30:05.123Z`.
    private static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The event as one JSON line, newline included; keys sorted, absent fields left out.
    public func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.timeStyle))
        }
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// An event from one line of the file; nil for a line that is not one (a line torn by a
    /// crash mid-write, or from a newer version).
    public static func parse(line: some StringProtocol) -> AuditEvent? {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Self.timeStyle.parse(text) { return date }
            return try Date.ISO8601FormatStyle().parse(text)
        }
        return try? decoder.decode(AuditEvent.self, from: Data(line.utf8))
    }
}
