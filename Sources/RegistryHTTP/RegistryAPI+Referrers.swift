import HTTPTypes
import Hummingbird
import RegistryCore

extension RegistryAPI {
    /// `GET /v2/<name>/referrers/<digest>?artifactType=`: an OCI index of the manifests in the
    /// repository whose `subject` is `digest` — empty (200) when there are none, even when the
    /// digest names nothing stored.
    func referrers(_ name: RepositoryName, _ subject: Digest, _ request: Request) async throws -> Response {
        let artifactType = request.query("artifactType").flatMap { $0.isEmpty ? nil : $0 }
        let stored = try await metadata.referrers(of: subject, in: name, artifactType: artifactType)
        let descriptors = stored.map { manifest in
            // Stored manifests passed validation when pushed; annotations come from their bytes.
            if let parsed = try? Manifest(bytes: manifest.bytes, contentType: manifest.mediaType) {
                return ReferrersIndex.descriptor(of: parsed)
            }
            return Descriptor(
                mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count),
                artifactType: manifest.artifactType)
        }
        let body = ReferrersIndex.render(descriptors)
        var headers = HTTPFields()
        headers[.contentType] = MediaType.ociIndex
        headers[.contentLength] = String(body.count)
        if artifactType != nil {
            headers[.ociFiltersApplied] = "artifactType"
        }
        let responseBody = request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        return Response(status: .ok, headers: headers, body: responseBody)
    }
}
