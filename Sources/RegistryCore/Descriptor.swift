/// A content descriptor inside a manifest: what it points at and how big it is.
public struct Descriptor: Sendable, Hashable {
    public var mediaType: String?
    public var digest: Digest
    public var size: Int64
    public var urls: [String]
    public var artifactType: String?
    public var annotations: [String: String]

    public init(
        mediaType: String?, digest: Digest, size: Int64, urls: [String] = [], artifactType: String? = nil,
        annotations: [String: String] = [:]
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.artifactType = artifactType
        self.annotations = annotations
    }
}
