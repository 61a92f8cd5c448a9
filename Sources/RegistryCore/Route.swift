import Foundation

/// An API endpoint recognised from a request path, before its parts are validated.
///
/// Repository names contain slashes, so a path is matched from its end, as the
/// reference registry does: `/v2/<name>/manifests/<reference>` and so on.
public enum Route: Equatable, Sendable {
    case base
    case catalog
    case tags(name: String)
    case manifest(name: String, reference: String)
    case blob(name: String, digest: String)
    case uploads(name: String)
    case upload(name: String, id: String)
    case referrers(name: String, digest: String)

    /// The route for a path without its query, or nil when it is not an API path.
    public init?(path: String) {
        guard path == "/v2" || path.hasPrefix("/v2/") else { return nil }
        let rest = path.dropFirst(4)
        if rest.isEmpty { self = .base; return }
        if rest == "_catalog" { self = .catalog; return }
        // Split on the bytes, as the reference does, not on Characters: this runs for every
        // request, and splitting a String by Character was a tenth of a HEAD's time in the
        // handler. The parts are slices of `rest`, so a name is one slice, not a join.
        var parts = rest.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Substring.init)
        // A trailing slash is allowed only on the uploads endpoint.
        let trailingSlash = parts.last?.isEmpty == true
        if trailingSlash { parts.removeLast() }
        let count = parts.count
        func name(dropping n: Int) -> String? {
            count > n ? String(rest[parts[0].startIndex..<parts[count - n - 1].endIndex]) : nil
        }
        if count >= 3, parts[count - 1] == "uploads", parts[count - 2] == "blobs", let name = name(dropping: 2) {
            self = .uploads(name: name)
            return
        }
        guard !trailingSlash else { return nil }
        if count >= 4, parts[count - 2] == "uploads", parts[count - 3] == "blobs", let name = name(dropping: 3) {
            self = .upload(name: name, id: String(parts[count - 1]))
        } else if count >= 3, parts[count - 2] == "tags", parts[count - 1] == "list", let name = name(dropping: 2) {
            self = .tags(name: name)
        } else if count >= 3, parts[count - 2] == "manifests", let name = name(dropping: 2) {
            self = .manifest(name: name, reference: Self.decodeColon(parts[count - 1]))
        } else if count >= 3, parts[count - 2] == "blobs", let name = name(dropping: 2) {
            self = .blob(name: name, digest: Self.decodeColon(parts[count - 1]))
        } else if count >= 3, parts[count - 2] == "referrers", let name = name(dropping: 2) {
            self = .referrers(name: name, digest: Self.decodeColon(parts[count - 1]))
        } else {
            return nil
        }
    }

    /// Some clients percent-encode the colon of a digest.
    private static func decodeColon(_ part: Substring) -> String {
        let segment = String(part)
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return segment }
        return segment.replacingOccurrences(of: "%3A", with: ":").replacingOccurrences(of: "%3a", with: ":")
    }

    /// What the route addresses, without the names in it.
    public enum Kind: String, Sendable, CaseIterable {
        case base, catalog, tags, manifest, blob, uploads, upload, referrers
    }

    public var kind: Kind {
        switch self {
        case .base: .base
        case .catalog: .catalog
        case .tags: .tags
        case .manifest: .manifest
        case .blob: .blob
        case .uploads: .uploads
        case .upload: .upload
        case .referrers: .referrers
        }
    }

    /// The repository the route addresses, if any.
    public var repositoryName: String? {
        switch self {
        case .base, .catalog: nil
        case .tags(let name), .manifest(let name, _), .blob(let name, _), .uploads(let name),
            .upload(let name, _), .referrers(let name, _):
            name
        }
    }
}
