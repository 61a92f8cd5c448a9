import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryStorage

/// The Distribution API's endpoints over the blob and metadata stores.
/// Each endpoint lives in an extension of its own, by area.
struct RegistryAPI: Sendable {
    let blobs: any BlobStore
    let metadata: any MetadataStore
    let uploads: BlobUploads
    let deleteEnabled: Bool
    let readOnly: Bool
    let berth: RegistryConfiguration.Berth

    init(
        blobs: any BlobStore, metadata: any MetadataStore, deleteEnabled: Bool, readOnly: Bool,
        berth: RegistryConfiguration.Berth = .init()
    ) {
        self.blobs = blobs
        self.metadata = metadata
        self.uploads = BlobUploads(blobs: blobs, metadata: metadata)
        self.deleteEnabled = deleteEnabled
        self.readOnly = readOnly
        self.berth = berth
    }

    /// Dispatches a recognised route by method.
    func respond(to route: Route, request: Request, context: RegistryRequestContext) async throws -> Response {
        let method = request.method
        if readOnly, method != .get, method != .head {
            throw RegistryError(.unsupported, "the registry is in read-only mode; writes are refused")
        }
        switch (route, method) {
        case (.base, .get), (.base, .head):
            return Response.json("{}", method: method)
        case (.catalog, .get):
            return try await catalog(request)
        case (.tags(let name), .get):
            return try await tags(try RepositoryName(name), request)
        case (.manifest(let name, let reference), .get), (.manifest(let name, let reference), .head):
            return try await getManifest(try RepositoryName(name), try Reference(parsing: reference), request)
        case (.manifest(let name, let reference), .put):
            return try await putManifest(try RepositoryName(name), try Reference(parsing: reference), request)
        case (.manifest(let name, let reference), .delete):
            return try await deleteManifest(try RepositoryName(name), try Reference(parsing: reference))
        case (.blob(let name, let digest), .get), (.blob(let name, let digest), .head):
            return try await getBlob(try RepositoryName(name), try Digest(parsing: digest), request, context: context)
        case (.blob(let name, let digest), .delete):
            return try await deleteBlob(try RepositoryName(name), try Digest(parsing: digest))
        case (.uploads(let name), .post):
            return try await startUpload(try RepositoryName(name), request)
        case (.upload(let name, let id), .get):
            return try await uploadStatus(try RepositoryName(name), id)
        case (.upload(let name, let id), .patch):
            return try await patchUpload(try RepositoryName(name), id, request)
        case (.upload(let name, let id), .put):
            return try await finishUpload(try RepositoryName(name), id, request)
        case (.upload(let name, let id), .delete):
            return try await cancelUpload(try RepositoryName(name), id)
        case (.referrers(let name, let digest), .get), (.referrers(let name, let digest), .head):
            return try await referrers(try RepositoryName(name), try Digest(parsing: digest), request)
        default:
            throw RegistryError(.unsupported, "method \(method.rawValue) is not allowed on this endpoint")
        }
    }

    func requireDelete() throws(RegistryError) {
        guard deleteEnabled else {
            throw RegistryError(.unsupported, "deletion is disabled (storage.delete.enabled is false)")
        }
    }
}

extension Request {
    /// The `Content-Length` header as a number, if present and valid.
    var contentLength: Int64? {
        headers[.contentLength].flatMap { Int64($0) }
    }

    /// The first value of a query parameter, percent-decoded.
    func query(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init)
    }
}

extension Response {
    static func json(_ text: String, status: HTTPResponse.Status = .ok, method: HTTPRequest.Method, headers: HTTPFields = [:])
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let buffer = ByteBuffer(string: text)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: method == .head ? ResponseBody() : .init(byteBuffer: buffer))
    }

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}
