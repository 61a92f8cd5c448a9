import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

extension RegistryAPI {
    /// `GET`/`HEAD /v2/<name>/manifests/<reference>`: the exact stored bytes and media type.
    func getManifest(_ name: RepositoryName, _ reference: String, _ request: Request) async throws -> Response {
        let manifest = try await service.manifest(reference, in: name)
        guard Self.accepts(request.headers[values: .accept], manifest.mediaType) else {
            throw RegistryError(
                .manifestUnknown, "manifest is not available in any of the accepted media types",
                detail: manifest.mediaType)
        }
        // A GET is a pull (a HEAD only asks whether the manifest changed); noted in memory,
        // written later in a batch.
        if request.method == .get {
            service.notePull(reference, in: name)
            service.notePulledManifest(manifest, reference: reference, in: name)
        }
        var headers = HTTPFields()
        headers[.contentType] = manifest.mediaType
        headers[.dockerContentDigest] = manifest.digest.description
        headers[.eTag] = "\"\(manifest.digest)\""
        headers[.contentLength] = String(manifest.bytes.count)
        if let match = request.headers[.ifNoneMatch], match == "\"\(manifest.digest)\"" {
            return .empty(.notModified, headers: headers)
        }
        let body = request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: manifest.bytes))
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `PUT /v2/<name>/manifests/<reference>`: validate, check references, store, tag.
    func putManifest(_ name: RepositoryName, _ reference: String, _ request: Request) async throws -> Response {
        let limit = service.manifestSizeLimit
        if let length = request.contentLength, length > limit { throw Manifest.tooLarge(limit) }
        let bytes = try await Self.collect(request.body, limit: limit)
        let pushed = try await service.pushManifest(
            bytes, contentType: request.headers[.contentType], reference: reference, in: name)
        var headers = HTTPFields()
        headers[.location] = locations.url("/v2/\(name)/manifests/\(pushed.digest)")
        headers[.dockerContentDigest] = pushed.digest.description
        if let subject = pushed.subject {
            headers[.ociSubject] = subject.description
        }
        return .empty(.created, headers: headers)
    }

    /// `DELETE /v2/<name>/manifests/<reference>`: by digest the manifest and its tags, by tag
    /// only the tag.
    func deleteManifest(_ name: RepositoryName, _ reference: String) async throws -> Response {
        try await service.deleteManifest(reference, in: name)
        return .empty(.accepted)
    }

    /// True unless the client named manifest types and none of them (nor a wildcard) is this one.
    ///
    /// Compares the header's bytes in place, ignoring ASCII case, parameters and white space:
    /// docker and containerd send four or more types on every manifest GET, and splitting them
    /// into lower-cased strings took a sixth of the server's CPU at 13,000 GETs a second.
    static func accepts(_ acceptHeaders: [String], _ mediaType: String) -> Bool {
        var namesManifestType = false
        for header in acceptHeaders {
            for element in header.utf8.split(separator: UInt8(ascii: ",")) {
                let type = essence(element)
                if sameType(type, mediaType) || sameType(type, "*/*") { return true }
                if !namesManifestType {
                    namesManifestType = MediaType.manifestTypes.contains { sameType(type, $0) }
                }
            }
        }
        return !namesManifestType
    }

    /// An Accept element without its parameters (`;q=0.5`) and surrounding spaces or tabs.
    private static func essence(_ element: Substring.UTF8View) -> Substring.UTF8View {
        var type = element.prefix { $0 != UInt8(ascii: ";") }
        while let first = type.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { type = type.dropFirst() }
        while let last = type.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { type = type.dropLast() }
        return type
    }

    /// Media types compare without regard to ASCII case (RFC 9110, 8.3.1).
    private static func sameType(_ type: Substring.UTF8View, _ known: String) -> Bool {
        guard type.count == known.utf8.count else { return false }
        return zip(type, known.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// Reads a whole small body, refusing one over `limit` bytes.
    static func collect(_ body: RequestBody, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw Manifest.tooLarge(limit)
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}
