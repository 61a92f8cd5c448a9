/// The error codes of the OCI Distribution Specification (and the Docker Registry API v2):
/// the vocabulary in which the registry's rules say what went wrong.
public enum ErrorCode: String, Sendable, CaseIterable, Codable {
    case blobUnknown = "BLOB_UNKNOWN"
    case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
    case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
    case digestInvalid = "DIGEST_INVALID"
    case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
    case manifestInvalid = "MANIFEST_INVALID"
    case manifestUnknown = "MANIFEST_UNKNOWN"
    case nameInvalid = "NAME_INVALID"
    case nameUnknown = "NAME_UNKNOWN"
    case sizeInvalid = "SIZE_INVALID"
    /// Docker Registry API v2: the tag in the path is not a valid tag.
    case tagInvalid = "TAG_INVALID"
    case unauthorized = "UNAUTHORIZED"
    case denied = "DENIED"
    case unsupported = "UNSUPPORTED"
    case tooManyRequests = "TOOMANYREQUESTS"
    case unavailable = "UNAVAILABLE"
    case unknown = "UNKNOWN"
}

/// A refusal by the registry's rules: an OCI error code, a message and an optional detail.
///
/// It carries no HTTP status. Where the code alone does not say enough, ``condition`` names
/// the circumstance, and the front door (RegistryHTTP) chooses the status from both.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Circumstances that the front door answers differently from the code's usual answer.
    public enum Condition: Sendable, Equatable {
        /// The bytes or range sent do not fit what the upload holds (out of order, malformed,
        /// or another request is writing to it at the same moment).
        case rangeMismatch
        /// The request is larger than a configured limit.
        case tooLarge
        /// The endpoint or resource does not exist at all (not a missing blob or manifest).
        case noSuchEndpoint
        /// The request itself is malformed (a query parameter, say), not the content.
        case malformedRequest
        /// A transient refusal: the same request may succeed if retried shortly.
        case retryLater
    }

    public var code: ErrorCode
    public var message: String
    public var detail: String?
    public var condition: Condition?

    public init(_ code: ErrorCode, _ message: String, detail: String? = nil, condition: Condition? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.condition = condition
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// An I/O failure of a store, in terms a client can be told without paths or system detail.
/// Blob and metadata stores translate their own errors (errno, SQLite result codes, S3
/// answers) into these, so that no layer above them matches a particular backend's errors.
public protocol StorageFailure: Error {
    var storageCondition: StorageCondition { get }
}

/// What an I/O failure means to a client.
public enum StorageCondition: Sendable, Equatable {
    /// The disk, quota or bucket is full.
    case noSpace
    /// The storage refuses writes (a read-only mount).
    case readOnly
    /// The storage is busy or unreachable for now; a retry may succeed.
    case temporarilyUnavailable
    /// Anything else: an internal error.
    case failed
}
