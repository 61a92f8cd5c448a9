import HTTPTypes
import Hummingbird
import RegistryCore

extension RegistryAPI {
    /// `GET /v2/<name>/referrers/<digest>?artifactType=`: an OCI index of the manifests in the
    /// repository whose `subject` is `digest`, empty (200) when there are none.
    func referrers(_ name: RepositoryName, _ subject: String, _ request: Request) async throws -> Response {
        let artifactType = request.query("artifactType").flatMap { $0.isEmpty ? nil : $0 }
        let descriptors = try await service.referrers(of: subject, in: name, artifactType: artifactType)
        var headers = HTTPFields()
        if artifactType != nil {
            headers[.ociFiltersApplied] = "artifactType"
        }
        return Response.data(
            ByteBuffer(bytes: ReferrersIndex.render(descriptors)), contentType: MediaType.ociIndex, method: request.method,
            headers: headers)
    }
}
