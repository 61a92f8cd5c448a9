extension RegistryConfiguration {
    /// `storage.s3`: blobs in an S3-compatible object store, with the keys of Distribution's
    /// s3 driver so that its configuration works unchanged.
    public struct S3: Sendable, Equatable {
        public var accessKey: String = ""
        public var secretKey: String = ""
        public var region: String = ""
        /// `regionendpoint`: a non-AWS endpoint (Ceph RGW, MinIO), `scheme://host[:port]`.
        public var regionEndpoint: String?
        public var bucket: String = ""
        /// `rootdirectory`: a key prefix inside the bucket, without leading or trailing `/`.
        public var rootDirectory: String = ""
        public var forcePathStyle: Bool = false
        /// `secure`: https to the endpoint (when `regionendpoint` names no scheme).
        public var secure: Bool = true
        public var skipVerify: Bool = false
        /// `v4auth`: read for compatibility; only Signature Version 4 is spoken.
        public var v4Auth: Bool = true
        /// `chunksize`: the part size of multipart uploads (at least 5 MiB; 10 MiB by default).
        public var chunkSize: Int64 = 10 << 20
        /// `multipartcopythresholdsize`: blobs above this are moved with a multipart copy.
        public var multipartCopyThresholdSize: Int64 = 32 << 20
        /// `multipartcopychunksize`: the part size of a multipart copy.
        public var multipartCopyChunkSize: Int64 = 32 << 20
        /// `multipartcopymaxconcurrency`: parts copied at once.
        public var multipartCopyMaxConcurrency: Int = 100
        /// `storageclass`: STANDARD, REDUCED_REDUNDANCY, … or NONE for the server's default.
        public var storageClass: String? = "STANDARD"

        public init() {}

        /// The endpoint URL to use: `regionendpoint` (with a scheme added from `secure` when it
        /// has none), else AWS's endpoint for the region.
        public var endpoint: String {
            if let regionEndpoint, !regionEndpoint.isEmpty {
                return regionEndpoint.contains("://") ? regionEndpoint : (secure ? "https://" : "http://") + regionEndpoint
            }
            return "\(secure ? "https" : "http")://s3.\(region).amazonaws.com"
        }
    }
}
