import HTTPTypes

extension HTTPField.Name {
    static let dockerContentDigest = named("Docker-Content-Digest")
    static let dockerUploadUUID = named("Docker-Upload-UUID")
    static let dockerDistributionAPIVersion = named("Docker-Distribution-API-Version")
    static let ociSubject = named("OCI-Subject")
    static let ociFiltersApplied = named("OCI-Filters-Applied")
    static let range = named("Range")
    static let link = named("Link")

    /// For header names written in this file, which are valid tokens by construction.
    static func named(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("invalid header name \(name)") }
        return field
    }
}
