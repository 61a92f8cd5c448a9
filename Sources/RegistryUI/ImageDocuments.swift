import Foundation

/// The parts of an OCI / Docker image config the image page shows. Every field is optional:
/// a config is whatever its pusher wrote, and a field that does not decode is simply not shown.
struct ImageConfigDocument: Decodable {
    struct Inner: Decodable {
        var User: String?
        var Env: [String]?
        var Entrypoint: [String]?
        var Cmd: [String]?
        var WorkingDir: String?
        var ExposedPorts: [String: Empty]?
        var Labels: [String: String]?
    }

    struct History: Decodable {
        var created: String?
        var created_by: String?
        var comment: String?
        var empty_layer: Bool?
    }

    struct Empty: Decodable {}

    var created: String?
    var architecture: String?
    var os: String?
    var variant: String?
    var config: Inner?
    var history: [History]?
}

/// The child manifests of an index, with their platforms (RegistryCore's ``Descriptor``
/// leaves the platform out: the registry's rules do not need it).
struct IndexDocument: Decodable {
    struct Platform: Decodable {
        var os: String?
        var architecture: String?
        var variant: String?

        var text: String {
            [os, architecture, variant].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "/")
        }
    }

    struct Child: Decodable {
        var mediaType: String?
        var digest: String
        var size: Int64?
        var platform: Platform?
        var artifactType: String?
    }

    var manifests: [Child]?
}

/// Numbers and names as people read them.
enum Format {
    /// `1023 B`, `1.5 KiB`, `12 MiB`: one decimal below ten units. Integer arithmetic with
    /// ties to even, which gives what `String(format: "%.1f")` gives (the quotient by a power
    /// of two is exact in a `Double`) without Foundation's formatter on every row.
    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var unit = 0
        var divisor: Int64 = 1024
        while bytes / divisor >= 1024, unit < units.count - 1 {
            divisor *= 1024
            unit += 1
        }
        if bytes < 10 * divisor {
            let tenths = roundedQuotient(bytes * 10, divisor)
            return "\(tenths / 10).\(tenths % 10) \(units[unit])"
        }
        return "\(roundedQuotient(bytes, divisor)) \(units[unit])"
    }

    /// `value / divisor` rounded to the nearest integer, ties to even (both positive).
    private static func roundedQuotient(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        let twice = (value % divisor) * 2
        return twice > divisor || (twice == divisor && quotient % 2 == 1) ? quotient + 1 : quotient
    }

    /// `sha256:0123456789ab`: enough to tell images apart on a page.
    static func shortDigest(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return String(digest.prefix(19)) }
        return String(digest[..<colon]) + ":" + String(digest[digest.index(after: colon)...].prefix(12))
    }

    /// An RFC 3339 time to the second, without the `T`.
    static func time(_ text: String?) -> String? {
        guard let text, text.count >= 19 else { return text }
        return text.prefix(19).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    static func duration(_ seconds: Int) -> String {
        let days = seconds / 86400
        let hours = seconds % 86400 / 3600
        let minutes = seconds % 3600 / 60
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        return "\(minutes)m \(seconds % 60)s"
    }

    /// Pretty-printed JSON for the raw view; the bytes as text when they do not parse.
    static func prettyJSON(_ bytes: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
            let pretty = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: pretty, as: UTF8.self)
    }

    /// What kind of thing a manifest media type is.
    static func kind(mediaType: String, artifactType: String?) -> String {
        if mediaType.contains("index") || mediaType.contains("manifest.list") { return "index" }
        return isImageConfig(artifactType) ? "image" : "artifact"
    }

    /// True for no type or an image config's type: an image's artifact type is its config's
    /// media type, so only another type makes a manifest an artifact.
    static func isImageConfig(_ type: String?) -> Bool {
        guard let type, !type.isEmpty else { return true }
        return type.contains("image.config") || type.contains("container.image")
    }
}
