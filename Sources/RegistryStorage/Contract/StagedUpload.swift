import Foundation
import RegistryCore

/// An upload's staged bytes as the blob store left them after the last request: how many,
/// their running hash, and where the store keeps them.
///
/// The metadata store keeps it with the session, so any server can take the next request:
/// nothing about an upload lives only in one process's memory.
public struct StagedUpload: Sendable, Equatable, Codable {
    /// The session id (or, for a whole-blob upload, a staging id with no session).
    public var id: String
    /// Bytes received so far.
    public var size: Int64
    /// The SHA-256 of those bytes so far; nil when it could not be resumed (saved by a build
    /// with another state layout), and then the store hashes the bytes again.
    public var hasher: DigestHasher?
    /// What the store needs to find the bytes again, in its own terms (an S3 multipart
    /// upload id and its parts, say). Nil for the filesystem store, whose staging file is
    /// named by the id.
    public var location: String?

    public init(id: String, size: Int64 = 0, hasher: DigestHasher? = DigestHasher(.sha256), location: String? = nil) {
        self.id = id
        self.size = size
        self.hasher = hasher
        self.location = location
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.size == b.size && a.location == b.location
            && a.hasher?.savedState == b.hasher?.savedState
    }

    private enum CodingKeys: String, CodingKey {
        case id, size, hash, location
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        size = try container.decode(Int64.self, forKey: .size)
        hasher = try container.decodeIfPresent(DigestHasher.SavedState.self, forKey: .hash).flatMap(DigestHasher.init(resuming:))
        location = try container.decodeIfPresent(String.self, forKey: .location)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(size, forKey: .size)
        try container.encodeIfPresent(hasher?.savedState, forKey: .hash)
        try container.encodeIfPresent(location, forKey: .location)
    }

    /// The JSON text a metadata store keeps.
    public func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    /// Reads ``encoded()``'s text.
    public static func decode(_ text: String) throws -> StagedUpload {
        try JSONDecoder().decode(StagedUpload.self, from: Data(text.utf8))
    }
}
