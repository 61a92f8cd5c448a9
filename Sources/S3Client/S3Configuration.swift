import Foundation

/// Where an S3-compatible object store is and how to sign requests for it.
///
/// The fields follow Distribution's s3 driver (`regionendpoint`, `forcepathstyle`, `secure`…)
/// so that `config.yml`'s `storage.s3` maps onto them one to one.
public struct S3Configuration: Sendable, Equatable {
    /// `scheme://host[:port]` of the service, without a path. For AWS itself,
    /// `https://s3.<region>.amazonaws.com`.
    public var endpoint: URL
    public var region: String
    public var bucket: String
    public var accessKey: String
    public var secretKey: String
    /// Path-style addressing (`endpoint/bucket/key`) rather than virtual-hosted
    /// (`bucket.endpoint/key`). Most self-hosted servers (Ceph RGW, MinIO) want path style.
    public var forcePathStyle: Bool
    /// Accept any TLS certificate (`skipverify`): for test servers only.
    public var skipVerify: Bool
    /// The storage class for new objects (`storageclass`); nil leaves the server's default.
    public var storageClass: String?

    public init(
        endpoint: URL, region: String, bucket: String, accessKey: String, secretKey: String,
        forcePathStyle: Bool = true, skipVerify: Bool = false, storageClass: String? = nil
    ) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.forcePathStyle = forcePathStyle
        self.skipVerify = skipVerify
        self.storageClass = storageClass
    }

    /// The endpoint AWS itself uses for a region.
    public static func awsEndpoint(region: String, secure: Bool = true) -> URL? {
        URL(string: "\(secure ? "https" : "http")://s3.\(region).amazonaws.com")
    }
}
