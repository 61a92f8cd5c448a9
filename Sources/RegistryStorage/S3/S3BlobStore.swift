import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import RegistryCore
import S3Client

/// Blobs in an S3-compatible object store, laid out as Distribution's s3 driver lays them out
/// (`<rootdirectory>/docker/registry/v2/blobs/sha256/ab/<hex>/data`), so that a bucket written
/// by either can be read by the other's tools.
///
/// Nothing lives in this process: staged uploads are S3 multipart uploads plus a small "tail"
/// object for bytes short of a part, described by the ``StagedUpload`` the metadata store
/// keeps, so every request of an upload may go to a different server. A PUT, part or copy that
/// S3 acknowledged is durable, which is what a 201 promises.
public final class S3BlobStore: BlobStore {
    let s3: S3Client
    let settings: RegistryConfiguration.S3
    let redirects: Bool
    /// How long a presigned blob URL stays valid (Distribution uses 20 minutes).
    let redirectExpiry: Duration = .seconds(20 * 60)
    /// Where a part on its way to the bucket waits until it is full (``S3PartSpool``).
    let spoolDirectory: String
    /// Small blobs read before, so that reading one again needs no S3 request.
    let smallBlobs = S3SmallBlobCache()

    /// One HTTP client per process (for each TLS setting), never shut down: stores are opened
    /// by registryd once and by tests many times, and a client must outlive every request.
    private static let verifyingClient = S3Client.makeHTTPClient(for: .tlsVerified, connectionsPerHost: 64)
    private static let nonVerifyingClient = S3Client.makeHTTPClient(for: .tlsUnverified, connectionsPerHost: 64)

    /// Opens the store on the configured bucket, which must exist (checked, so that a wrong
    /// name or credentials fail at startup, not at the first push). Parts being gathered wait
    /// in unlinked files under `spoolDirectory`.
    public init(settings: RegistryConfiguration.S3, redirectsDisabled: Bool, spoolDirectory: String) async throws {
        guard let endpoint = URL(string: settings.endpoint), endpoint.host != nil else {
            throw S3StoreFailure(.failed, "storage.s3: invalid endpoint \(settings.endpoint)")
        }
        let configuration = S3Configuration(
            endpoint: endpoint, region: settings.region, bucket: settings.bucket, accessKey: settings.accessKey,
            secretKey: settings.secretKey, forcePathStyle: settings.forcePathStyle || settings.regionEndpoint != nil,
            skipVerify: settings.skipVerify, storageClass: settings.storageClass)
        s3 = S3Client(
            configuration: configuration,
            httpClient: settings.skipVerify ? Self.nonVerifyingClient : Self.verifyingClient)
        self.settings = settings
        self.spoolDirectory = spoolDirectory
        redirects = !redirectsDisabled
        do {
            try await s3.headBucket()
        } catch {
            throw S3StartupFailure(error, settings: settings)
        }
    }

    /// The spool folder for a configuration: `spool` under the storage root when it can be
    /// made there, else one in the temporary directory.
    public static func spoolDirectory(for configuration: RegistryConfiguration) -> String {
        let preferred = configuration.storage.rootDirectory + "/spool"
        if (try? FileManager.default.createDirectory(atPath: preferred, withIntermediateDirectories: true)) != nil {
            return preferred
        }
        return NSTemporaryDirectory() + "berth-s3-spool"
    }

    // MARK: Keys

    var root: String { settings.rootDirectory.isEmpty ? "" : settings.rootDirectory + "/" }
    var blobsPrefix: String { root + "docker/registry/v2/blobs/" }
    var uploadsPrefix: String { root + "berth/uploads/" }

    func key(of digest: Digest) -> String {
        let hex = digest.hex
        return blobsPrefix + "\(digest.algorithm.rawValue)/\(hex.prefix(2))/\(hex)/data"
    }

    /// The digest a blob key names, or nil for any other key.
    func digest(ofKey key: String) -> Digest? {
        guard key.hasPrefix(blobsPrefix), key.hasSuffix("/data") else { return nil }
        let parts = key.dropFirst(blobsPrefix.count).split(separator: "/")
        guard parts.count == 4 else { return nil }
        return try? Digest(parsing: "\(parts[0]):\(parts[2])")
    }

    // MARK: Reading

    public func size(of digest: Digest) async throws -> Int64? {
        try await storageCall("reading \(digest)") { try await s3.headObject(key: key(of: digest))?.size }
    }

    public func open(_ digest: Digest, range: Range<Int64>) async throws -> (any BlobReader)? {
        try await storageCall("reading \(digest)") {
            if range.isEmpty {
                return try await s3.headObject(key: key(of: digest)) == nil ? nil : S3BlobReader(body: nil)
            }
            if range.upperBound <= S3SmallBlobCache.readSize, let head = try await smallBlobHead(digest) {
                guard let slice = head.getSlice(at: head.readerIndex + Int(range.lowerBound), length: range.count) else {
                    throw S3StoreFailure(.failed, "S3 store: \(key(of: digest)) is shorter than \(range.upperBound) bytes")
                }
                return BufferedBlobReader(bytes: slice)
            }
            do {
                let object = try await s3.getObject(key: key(of: digest), range: range.lowerBound...(range.upperBound - 1))
                return S3BlobReader(body: object.body)
            } catch let error as S3Error where error.isNotFound {
                return nil
            }
        }
    }

    /// The blob's first ``S3SmallBlobCache/readSize`` bytes: all of it when it is shorter, and
    /// then cached. Nil when the blob is missing.
    private func smallBlobHead(_ digest: Digest) async throws -> ByteBuffer? {
        if let cached = smallBlobs.bytes(of: digest) { return cached }
        let head: ByteBuffer
        do {
            let object = try await s3.getObject(key: key(of: digest), range: 0...Int64(S3SmallBlobCache.readSize - 1))
            head = try await object.body.collect(upTo: S3SmallBlobCache.readSize)
        } catch let error as S3Error where error.isNotFound {
            return nil
        }
        smallBlobs.insert(head, as: digest)
        return head
    }

    public func redirectURL(for digest: Digest, method: BlobRedirectMethod) async throws -> String? {
        guard redirects else { return nil }
        return s3.presignedURL(method: method == .head ? .HEAD : .GET, key: key(of: digest), expires: redirectExpiry)?
            .absoluteString
    }

    public var offersRedirects: Bool { redirects }

    // MARK: Deleting

    public func delete(_ digests: [Digest]) async throws {
        try await storageCall("deleting blobs") {
            smallBlobs.remove(digests)
            let failures = try await s3.deleteObjects(keys: digests.map(key(of:)))
            if let (key, failure) = failures.first {
                throw S3StoreFailure(failure, doing: "deleting \(key)")
            }
        }
    }

    // MARK: Maintenance

    public func storedBlobs() async throws -> [Digest] {
        try await storageCall("listing blobs") {
            var digests: [Digest] = []
            for try await object in s3.allObjects(prefix: blobsPrefix) {
                if let digest = digest(ofKey: object.key) { digests.append(digest) }
            }
            return digests
        }
    }

    public func quarantine(_ digest: Digest) async throws {
        try await storageCall("quarantining \(digest)") {
            smallBlobs.remove([digest])
            let destination = root + "berth/quarantine/\(digest.algorithm.rawValue)/\(digest.hex)"
            try await move(from: key(of: digest), to: destination, size: try await s3.headObject(key: key(of: digest))?.size)
        }
    }

    public func checkWritable() async throws {
        try await storageCall("checking the bucket") {
            let probe = root + "berth/health/" + UUID().uuidString.lowercased()
            try await s3.putObject(key: probe, payload: .bytes(ByteBuffer(string: "ok")))
            try await s3.deleteObject(key: probe)
        }
    }

    /// Runs an S3 call, translating its failures into ``StorageFailure``s.
    /// Errors that are not the store's own (a request body that failed, a domain refusal)
    /// pass through unchanged, as the contract asks.
    func storageCall<T>(_ doing: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as S3Error {
            throw S3StoreFailure(error, doing: doing)
        } catch let error as HTTPClientError {
            throw S3StoreFailure(error, doing: doing)
        } catch let error as DecodingError {
            throw S3StoreFailure(error, doing: doing)
        } catch let error as NIOConnectionError {
            throw S3StoreFailure(.temporarilyUnavailable, "S3 store: \(doing): \(error)")
        } catch let error as ChannelError {
            throw S3StoreFailure(.temporarilyUnavailable, "S3 store: \(doing): \(error)")
        } catch let error as IOError {
            throw S3StoreFailure(.temporarilyUnavailable, "S3 store: \(doing): \(error)")
        }
    }
}

/// A range of a blob as S3 sends it.
struct S3BlobReader: BlobReader {
    /// Nil for an empty range.
    let body: HTTPClientResponse.Body?

    /// The size a chunk is gathered to before it is passed on. The HTTP client hands over each
    /// socket read (often 16 KiB or less); passing those on one by one costs a write, a flush
    /// and a wake-up each downstream, which made a streamed download spend more than twice
    /// the reference's CPU. One copy into a larger buffer costs far less.
    static let chunkSize = 256 * 1024

    func stream(into consume: (ByteBuffer) async throws -> Void) async throws {
        guard let body else { return }
        var pending = ByteBuffer()
        for try await chunk in body {
            if pending.readableBytes == 0, chunk.readableBytes >= Self.chunkSize {
                try await consume(chunk)
                continue
            }
            if pending.capacity == 0 { pending.reserveCapacity(Self.chunkSize) }
            var chunk = chunk
            pending.writeBuffer(&chunk)
            if pending.readableBytes >= Self.chunkSize {
                try await consume(pending)
                pending = ByteBuffer()
            }
        }
        if pending.readableBytes > 0 { try await consume(pending) }
    }
}
