import Foundation

/// A manifest that passed validation: the exact bytes, their digest, and what they reference.
public struct Manifest: Sendable {
    public enum Kind: Sendable, Equatable {
        /// An image (or artifact) manifest: a config and layers.
        case image
        /// An index or manifest list: child manifests.
        case index
    }

    public static let maximumSize = 4 * 1024 * 1024

    /// The refusal of a body over `limit` bytes.
    public static func tooLarge(_ limit: Int) -> RegistryError {
        RegistryError(.sizeInvalid, "manifest is larger than the limit", detail: "limit \(limit) bytes", condition: .tooLarge)
    }

    public let bytes: [UInt8]
    public let digest: Digest
    public let mediaType: String
    public let kind: Kind
    public let config: Descriptor?
    public let layers: [Descriptor]
    public let children: [Descriptor]
    public let subject: Descriptor?
    public let artifactType: String?
    public let annotations: [String: String]

    /// Set by ``trustingExternalLayers()``: layers with `urls` are then not required in the registry.
    public internal(set) var externalLayersTrusted = false

    /// Set by ``fetchingReferencesLater()``: a mirror's manifest, whose blobs and child
    /// manifests arrive from the upstream when a client asks for them.
    public internal(set) var referencesDeferred = false

    /// The blobs this manifest needs in the registry: its config and its layers (less the
    /// layers with `urls` once ``trustingExternalLayers()`` accepted them).
    public var blobReferences: [Descriptor] {
        (config.map { [$0] } ?? []) + (externalLayersTrusted ? layers.filter { $0.urls.isEmpty } : layers)
    }

    /// The blobs a store must find in the repository before it accepts the manifest: all of
    /// ``blobReferences`` for a push, none for a mirror's manifest.
    public var requiredBlobs: [Descriptor] { referencesDeferred ? [] : blobReferences }

    /// The child manifests a store must find in the repository first (none for a mirror's).
    public var requiredChildren: [Descriptor] { referencesDeferred ? [] : children }

    /// The same manifest, to be stored by a pull-through cache before its blobs and children:
    /// those come from the upstream when clients pull them, and are still recorded as
    /// references (garbage collection keeps them once they are here).
    public func fetchingReferencesLater() -> Manifest {
        var copy = self
        copy.referencesDeferred = true
        return copy
    }

    /// Parses and validates a manifest body.
    ///
    /// - Parameters:
    ///   - bytes: the exact body, at most ``maximumSize``.
    ///   - contentType: the request's `Content-Type`, if any.
    ///   - algorithm: the digest algorithm to identify it with.
    ///   - maximumSize: the largest body accepted (`berth.limits.manifestsize`).
    public init(
        bytes: [UInt8], contentType: String?, algorithm: DigestAlgorithm = .sha256, maximumSize: Int = Self.maximumSize
    ) throws(RegistryError) {
        guard bytes.count <= maximumSize else { throw Self.tooLarge(maximumSize) }
        let declaredType = contentType.map(MediaType.essence).flatMap { type in
            type.isEmpty || type == MediaType.json || type == MediaType.octetStream ? nil : type
        }
        if let declaredType, declaredType == MediaType.dockerManifestSchema1
            || declaredType == MediaType.dockerManifestSchema1Signed
        {
            throw Self.schema1Refused
        }
        let document: ManifestDocument
        do {
            document = try JSONDecoder().decode(ManifestDocument.self, from: Data(bytes))
        } catch {
            throw RegistryError(.manifestInvalid, "manifest is not a valid JSON manifest", detail: Self.describe(error))
        }
        switch document.schemaVersion {
        case 2: break
        case 1: throw Self.schema1Refused
        default:
            throw RegistryError(
                .manifestInvalid, "unsupported schemaVersion",
                detail: document.schemaVersion.map(String.init) ?? "missing")
        }
        if let declaredType, let bodyType = document.mediaType, declaredType != bodyType {
            throw RegistryError(
                .manifestInvalid, "Content-Type does not match the manifest's mediaType",
                detail: "Content-Type \(declaredType), mediaType \(bodyType)")
        }
        let mediaType = declaredType ?? document.mediaType
            ?? (document.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        let kind: Kind
        switch mediaType {
        case MediaType.dockerManifest, MediaType.ociManifest: kind = .image
        case MediaType.dockerManifestList, MediaType.ociIndex: kind = .index
        case MediaType.dockerManifestSchema1, MediaType.dockerManifestSchema1Signed: throw Self.schema1Refused
        default: throw RegistryError(.manifestInvalid, "unsupported manifest media type", detail: mediaType)
        }

        switch kind {
        case .image:
            guard let config = document.config else {
                throw RegistryError(.manifestInvalid, "image manifest has no config descriptor")
            }
            guard document.manifests == nil else {
                throw RegistryError(.manifestInvalid, "image manifest must not list manifests")
            }
            if mediaType == MediaType.dockerManifest, document.layers == nil {
                throw RegistryError(.manifestInvalid, "image manifest has no layers")
            }
            self.config = try Self.validate(config, field: "config")
            self.layers = try (document.layers ?? []).enumerated().map { index, layer throws(RegistryError) in
                try Self.validate(layer, field: "layers[\(index)]")
            }
            self.children = []
        case .index:
            guard let manifests = document.manifests else {
                throw RegistryError(.manifestInvalid, "index has no manifests list")
            }
            guard document.config == nil, document.layers == nil else {
                throw RegistryError(.manifestInvalid, "an index must not have a config or layers")
            }
            self.config = nil
            self.layers = []
            self.children = try manifests.enumerated().map { index, child throws(RegistryError) in
                try Self.validate(child, field: "manifests[\(index)]")
            }
        }
        self.subject = try document.subject.map { subject throws(RegistryError) in
            try Self.validate(subject, field: "subject")
        }
        self.bytes = bytes
        self.mediaType = mediaType
        self.kind = kind
        self.artifactType = document.artifactType ?? (kind == .image ? config?.mediaType : nil)
        self.annotations = document.annotations ?? [:]
        var hasher = DigestHasher(algorithm)
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        self.digest = hasher.finalize()
    }

    private static let schema1Refused = RegistryError(
        .manifestInvalid, "Docker schema 1 manifests are not supported; push with a current client (schema 2 or OCI)")

    private static func validate(_ raw: ManifestDocument.RawDescriptor, field: String) throws(RegistryError) -> Descriptor {
        let digest: Digest
        do {
            digest = try Digest(parsing: raw.digest)
        } catch {
            throw RegistryError(.manifestInvalid, "invalid digest in \(field)", detail: String(raw.digest.prefix(160)))
        }
        guard raw.size >= 0 else {
            throw RegistryError(.manifestInvalid, "negative size in \(field)")
        }
        return Descriptor(
            mediaType: raw.mediaType, digest: digest, size: raw.size, urls: raw.urls ?? [],
            artifactType: raw.artifactType, annotations: raw.annotations ?? [:])
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}

/// The JSON shape shared by Docker schema 2 manifests, manifest lists, and OCI manifests and indexes.
struct ManifestDocument: Decodable {
    struct RawDescriptor: Decodable {
        var mediaType: String?
        var digest: String
        var size: Int64
        var urls: [String]?
        var artifactType: String?
        var annotations: [String: String]?
    }

    var schemaVersion: Int?
    var mediaType: String?
    var artifactType: String?
    var config: RawDescriptor?
    var layers: [RawDescriptor]?
    var manifests: [RawDescriptor]?
    var subject: RawDescriptor?
    var annotations: [String: String]?
}
