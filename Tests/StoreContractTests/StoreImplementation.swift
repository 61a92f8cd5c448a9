import Foundation
import NIOCore
import RegistryCore
import RegistryStorage
import S3Client
import Testing

/// One implementation of the store contracts, and how to open a fresh, empty instance of it.
///
/// Every test in this target runs once per implementation in ``all``. A new backend joins
/// by adding itself there (gated on the environment variables that say where its servers are).
struct StoreImplementation: Sendable, CustomTestStringConvertible {
    let name: String
    /// Opens the stores on fresh storage. Calling `reopen` on the result opens a second view
    /// of the same storage, as another process or server would.
    let open: @Sendable () async throws -> OpenedStores

    var testDescription: String { name }

    static var all: [StoreImplementation] {
        var all: [StoreImplementation] = [.filesystemAndSQLite]
        if ProcessInfo.processInfo.environment["S3_TEST_ENDPOINT"] != nil
            || ProcessInfo.processInfo.environment["S3_TEST_REQUIRED"] == "1"
        {
            all.append(.s3AndSQLite)
        }
        // PostgreSQL when PG_TEST_HOST names a server (required with PG_TEST_REQUIRED=1).
        if PostgresTestDatabase.isConfigured {
            all.append(.postgresAndFilesystem)
            if ProcessInfo.processInfo.environment["S3_TEST_ENDPOINT"] != nil { all.append(.postgresAndS3) }
        }
        return all
    }

    /// Metadata in a fresh database of the real PostgreSQL server, blobs on the filesystem.
    static let postgresAndFilesystem = StoreImplementation(name: "postgres+filesystem") {
        var configuration = RegistryConfiguration()
        configuration.storage.rootDirectory = NSTemporaryDirectory() + "berth-contract-" + UUID().uuidString
        configuration.database = try await PostgresTestDatabase.create()
        return try await OpenedStores(configuration)
    }

    /// Metadata in a fresh database, blobs in a fresh bucket: the scaled-out configuration.
    static let postgresAndS3 = StoreImplementation(name: "postgres+s3") {
        var configuration = try await s3AndSQLite.open().configuration
        configuration.database = try await PostgresTestDatabase.create()
        return try await OpenedStores(configuration)
    }

    /// Blobs in a fresh bucket of the real S3 server that `scripts/s3-server.sh` starts (its
    /// address in `S3_TEST_*`), with a small part size so that multipart paths are exercised.
    static let s3AndSQLite = StoreImplementation(name: "s3+sqlite") {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["S3_TEST_ENDPOINT"], let url = URL(string: endpoint) else {
            throw S3NotConfigured()
        }
        var s3 = RegistryConfiguration.S3()
        s3.regionEndpoint = endpoint
        s3.region = environment["S3_TEST_REGION"] ?? "us-east-1"
        s3.bucket = "contract-" + UUID().uuidString.lowercased().prefix(18)
        s3.accessKey = environment["S3_TEST_ACCESS_KEY"] ?? ""
        s3.secretKey = environment["S3_TEST_SECRET_KEY"] ?? ""
        s3.forcePathStyle = true
        s3.chunkSize = 5 << 20
        s3.multipartCopyThresholdSize = 6 << 20
        s3.multipartCopyChunkSize = 5 << 20
        let client = S3Client(
            configuration: S3Configuration(
                endpoint: url, region: s3.region, bucket: s3.bucket, accessKey: s3.accessKey, secretKey: s3.secretKey),
            httpClient: .shared)
        try await client.createBucket()
        var configuration = RegistryConfiguration()
        configuration.storage.rootDirectory = NSTemporaryDirectory() + "berth-contract-" + UUID().uuidString
        configuration.storage.s3 = s3
        return try await OpenedStores(configuration)
    }

    struct S3NotConfigured: Error, CustomStringConvertible {
        var description: String { "S3_TEST_REQUIRED=1 but S3_TEST_ENDPOINT is not set: start scripts/s3-server.sh" }
    }

    static let filesystemAndSQLite = StoreImplementation(name: "filesystem+sqlite") {
        var configuration = RegistryConfiguration()
        configuration.storage.rootDirectory = NSTemporaryDirectory() + "berth-contract-" + UUID().uuidString
        return try await OpenedStores(configuration)
    }
}

/// Stores opened through ``RegistryStores``, the factory registryd uses.
struct OpenedStores: Sendable {
    let configuration: RegistryConfiguration
    let stores: RegistryStores

    /// Opened as registryd opens them (`servesRequests`): the PostgreSQL store holds a cache
    /// lease and answers tag lists from memory, so every contract runs against that cache.
    init(_ configuration: RegistryConfiguration) async throws {
        self.configuration = configuration
        stores = try await RegistryStores.open(configuration, servesRequests: true)
    }

    var blobs: any BlobStore { stores.blobs }
    var metadata: any MaintainableMetadataStore { stores.metadata }

    /// A second, independent view of the same storage (another server or process).
    func reopen() async throws -> OpenedStores { try await OpenedStores(configuration) }

    func uploads() -> BlobUploads { BlobUploads(blobs: blobs, metadata: metadata) }

    func collector() -> GarbageCollector {
        GarbageCollector(blobs: blobs, metadata: metadata, changes: stores.changes)
    }
}

// MARK: Bodies

/// A request body made of fixed chunks.
struct Chunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: [ByteBuffer]
    /// Throw after this many chunks, as a connection that drops would.
    var failAfter: Int?

    init(_ bytes: [UInt8], chunkSize: Int = 64 * 1024, failAfter: Int? = nil) {
        chunks = stride(from: 0, to: Swift.max(bytes.count, 1), by: chunkSize).map {
            ByteBuffer(bytes: bytes[$0..<Swift.min($0 + chunkSize, bytes.count)])
        }
        self.failAfter = failAfter
    }

    init(_ text: String) { self.init(Array(text.utf8)) }

    /// `bytes` cut into parts of `sizes`, in turn and over again, as a connection's reads vary.
    init(_ bytes: [UInt8], sizes: [Int]) {
        var parts: [ByteBuffer] = []
        var start = 0
        while start < bytes.count {
            let end = Swift.min(start + sizes[parts.count % sizes.count], bytes.count)
            parts.append(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
        chunks = parts
        failAfter = nil
    }

    struct Dropped: Error {}

    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let chunks: [ByteBuffer]
        let failAfter: Int?
        mutating func next() async throws -> ByteBuffer? {
            if let failAfter, index == failAfter { throw Dropped() }
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks, failAfter: failAfter) }
}

// MARK: Content

/// Deterministic bytes of a given size.
func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ Int(seed)) }
}

func digest(_ bytes: [UInt8]) -> Digest { DigestHasher.digest(of: bytes) }

func repository(_ name: String = "team/app") -> RepositoryName {
    // Names in these tests are valid by construction.
    (try? RepositoryName(name)) ?? { fatalError("invalid test repository name \(name)") }()
}

/// Pushes a blob through the upload path a client uses and returns its digest.
@discardableResult
func push(_ content: [UInt8], to repository: RepositoryName, in stores: OpenedStores) async throws -> Digest {
    let digest = digest(content)
    _ = try await stores.uploads().uploadWhole(
        to: repository, digest: digest, body: Chunks(content), length: Int64(content.count))
    return digest
}

/// An OCI image manifest referencing `config` and `layers` (all pushed already).
func imageManifest(config: [UInt8], layers: [[UInt8]], subject: Manifest? = nil, annotation: String = "") throws
    -> Manifest
{
    func descriptor(_ bytes: [UInt8], _ type: String) -> String {
        "{\"mediaType\":\"\(type)\",\"digest\":\"\(digest(bytes))\",\"size\":\(bytes.count)}"
    }
    let subjectField = subject.map {
        ",\"subject\":{\"mediaType\":\"\($0.mediaType)\",\"digest\":\"\($0.digest)\",\"size\":\($0.bytes.count)}"
    } ?? ""
    let text = """
        {"schemaVersion":2,"mediaType":"\(MediaType.ociManifest)",\
        "config":\(descriptor(config, "application/vnd.oci.image.config.v1+json")),\
        "layers":[\(layers.map { descriptor($0, "application/vnd.oci.image.layer.v1.tar") }.joined(separator: ","))]\
        \(subjectField),"annotations":{"note":"\(annotation)"}}
        """
    return try Manifest(bytes: Array(text.utf8), contentType: MediaType.ociManifest)
}

/// An OCI index of `children` (all pushed already).
func index(of children: [Manifest]) throws -> Manifest {
    let entries = children.map { "{\"mediaType\":\"\($0.mediaType)\",\"digest\":\"\($0.digest)\",\"size\":\($0.bytes.count)}" }
    let text = "{\"schemaVersion\":2,\"mediaType\":\"\(MediaType.ociIndex)\",\"manifests\":[\(entries.joined(separator: ","))]}"
    return try Manifest(bytes: Array(text.utf8), contentType: MediaType.ociIndex)
}

/// Pushes an image (config, layers, manifest) and returns its manifest.
@discardableResult
func pushImage(
    _ name: RepositoryName, tag: String?, in stores: OpenedStores, seed: UInt8 = 1, layers: Int = 2
) async throws -> Manifest {
    let config = Array("{\"seed\":\(seed)}".utf8)
    let layerBytes = (0..<layers).map { bytes(1000 + $0, seed: seed &+ UInt8($0)) }
    try await push(config, to: name, in: stores)
    for layer in layerBytes { try await push(layer, to: name, in: stores) }
    let manifest = try imageManifest(config: config, layers: layerBytes, annotation: "\(seed)")
    try await stores.metadata.putManifest(manifest, in: name, tag: try tag.map { try Tag($0) })
    return manifest
}

/// Reads a whole blob from the blob store.
func read(_ digest: Digest, from blobs: any BlobStore) async throws -> [UInt8]? {
    guard let size = try await blobs.size(of: digest) else { return nil }
    var out: [UInt8] = []
    try await blobs.read(digest, range: 0..<size) { out.append(contentsOf: $0.readableBytesView) }
    return out
}
