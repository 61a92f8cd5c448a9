/// Media types the registry understands.
public enum MediaType {
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifestSchema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerManifestSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"
    public static let octetStream = "application/octet-stream"
    public static let json = "application/json"

    /// Every manifest type that can be stored.
    public static let manifestTypes: Set<String> = [dockerManifest, dockerManifestList, ociManifest, ociIndex]

    /// Strips parameters (`; charset=utf-8`) and white space, and lower-cases.
    public static func essence(_ contentType: String) -> String {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? contentType
        return base.trimmingWhitespace().lowercased()
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
