/// A failure the object store reported, or one talking to it.
public struct S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// S3's error code (`NoSuchKey`, `NoSuchUpload`, `SlowDown`…), or one derived from the
    /// status when the answer had no body (HEAD): `NotFound`, `HTTP<status>`.
    public var code: String
    public var status: Int
    public var message: String
    public var requestID: String?

    public init(code: String, status: Int, message: String, requestID: String? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.requestID = requestID
    }

    /// The object, bucket or upload does not exist.
    public var isNotFound: Bool {
        status == 404 || ["NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NotFound"].contains(code)
    }

    /// Worth retrying: the server is busy or failed for a reason of its own.
    public var isTransient: Bool {
        status >= 500 || status == 429 || ["SlowDown", "RequestTimeout", "InternalError"].contains(code)
    }

    public var description: String {
        "S3 \(code) (\(status)): \(message)" + (requestID.map { " [request \($0)]" } ?? "")
    }
}
