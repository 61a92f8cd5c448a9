import RegistryCore
import RegistryStorage

extension RegistryService {
    /// The descriptors of the manifests in `repository` whose `subject` is `subject`, oldest
    /// first, optionally of one artifact type. Empty when there are none, even when the
    /// digest names nothing stored. A malformed digest is `DIGEST_INVALID`, as the
    /// specification asks of this endpoint.
    public func referrers(of subject: String, in repository: RepositoryName, artifactType: String?) async throws
        -> [Descriptor]
    {
        let subject = try Digest(parsing: subject)
        let stored = try await metadata.referrers(of: subject, in: repository, artifactType: artifactType)
        return stored.map { manifest in
            // Stored manifests passed validation when pushed; annotations come from their bytes.
            if let parsed = try? Manifest(bytes: manifest.bytes, contentType: manifest.mediaType) {
                return ReferrersIndex.descriptor(of: parsed)
            }
            return Descriptor(
                mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count),
                artifactType: manifest.artifactType)
        }
    }
}
