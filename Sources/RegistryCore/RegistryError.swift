/// The error codes of the OCI Distribution Specification (and the Docker Registry API v2).
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
    case unauthorized = "UNAUTHORIZED"
    case denied = "DENIED"
    case unsupported = "UNSUPPORTED"
    case tooManyRequests = "TOOMANYREQUESTS"
    case unavailable = "UNAVAILABLE"
    case unknown = "UNKNOWN"

    /// The HTTP status the specification pairs with the code when nothing more specific applies.
    public var defaultStatus: Int {
        switch self {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: 404
        case .blobUploadInvalid, .digestInvalid, .manifestBlobUnknown, .manifestInvalid,
            .nameInvalid, .sizeInvalid:
            400
        case .unauthorized: 401
        case .denied: 403
        case .unsupported: 405
        case .tooManyRequests: 429
        case .unavailable: 503
        case .unknown: 500
        }
    }
}

/// An error a client sees, in the OCI error format, with its HTTP status.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var detail: String?
    public var status: Int

    public init(_ code: ErrorCode, _ message: String, detail: String? = nil, status: Int? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status ?? code.defaultStatus
    }

    public var description: String { "\(code.rawValue) (\(status)): \(message)" }

    /// `{"errors":[{"code":…,"message":…,"detail":…}]}`
    public var jsonBody: String {
        var entry = "{\"code\":\"\(code.rawValue)\",\"message\":\(JSONString.quote(message))"
        if let detail {
            entry += ",\"detail\":\(JSONString.quote(detail))"
        }
        return "{\"errors\":[\(entry)}]}"
    }
}

/// Minimal JSON string quoting for error bodies and small documents.
public enum JSONString {
    public static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(s.value, radix: 16).count)
                    + String(s.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
