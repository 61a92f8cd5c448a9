import Foundation

/// The body of `GET /v2/<name>/referrers/<digest>`: an OCI image index of the manifests
/// whose `subject` is that digest.
public enum ReferrersIndex {
    /// The descriptor of a referring manifest as the referrers API lists it: media type,
    /// digest, size, `artifactType` and `annotations`.
    public static func descriptor(of manifest: Manifest) -> Descriptor {
        Descriptor(
            mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count),
            artifactType: manifest.artifactType, annotations: manifest.annotations)
    }

    /// The index JSON, keys sorted so the same referrers always give the same bytes.
    public static func render(_ referrers: [Descriptor]) -> [UInt8] {
        let index = Index(manifests: referrers.map(Entry.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers and string maps cannot fail.
        return (try? encoder.encode(index)).map { [UInt8]($0) } ?? Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)
    }

    private struct Index: Encodable {
        var schemaVersion = 2
        var mediaType = MediaType.ociIndex
        var manifests: [Entry]
    }

    private struct Entry: Encodable {
        var mediaType: String?
        var digest: String
        var size: Int64
        var artifactType: String?
        var annotations: [String: String]?

        init(_ descriptor: Descriptor) {
            mediaType = descriptor.mediaType
            digest = descriptor.digest.description
            size = descriptor.size
            artifactType = descriptor.artifactType
            annotations = descriptor.annotations.isEmpty ? nil : descriptor.annotations
        }
    }
}
