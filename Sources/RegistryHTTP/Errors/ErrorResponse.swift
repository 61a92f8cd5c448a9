import HTTPTypes
import Hummingbird
import Logging
import NIOHTTP1
import RegistryCore

/// Turns any error a handler or middleware throws into an OCI error response, choosing the
/// HTTP status from the error's code and condition. This is the only place where the
/// registry's domain errors meet HTTP statuses.
enum ErrorResponse {
    static func make(for error: any Error, method: HTTPRequest.Method, logger: Logger) -> Response {
        let (status, registryError) = translate(error, logger: logger)
        var headers = HTTPFields()
        if let limited = error as? TooManyRequests { headers[.retryAfter] = String(limited.retryAfter) }
        if let retry = registryError.condition, retry == .retryLater, headers[.retryAfter] == nil {
            headers[.retryAfter] = "1"
        }
        return Response.json(OCIErrorBody(registryError), status: status, method: method, headers: headers)
    }

    /// The status and OCI error for any error.
    static func translate(_ error: any Error, logger: Logger) -> (HTTPResponse.Status, RegistryError) {
        switch error {
        case let refusal as HTTPRefusal:
            return (refusal.status, refusal.error)
        case let error as RegistryError:
            return (status(for: error), error)
        case let limited as TooManyRequests:
            return (.tooManyRequests, limited.registryError)
        case let failure as any StorageFailure:
            return storageAnswer(failure, logger: logger)
        case let error as HTTPError:
            if error.status == .contentTooLarge {
                return (.contentTooLarge, RegistryError(.sizeInvalid, "request body too large"))
            }
            if error.status == .notFound {
                return (.notFound, RegistryError(.unsupported, "no such endpoint"))
            }
            return (error.status, RegistryError(.unknown, error.body ?? "request failed"))
        case let parseError as HTTPParserError:
            // The request stopped parsing after its head, while its body was read: the client's
            // fault, not the server's. Most often the body ended (the client closed its side)
            // before its Content-Length; the upload or manifest it carried is dropped whole.
            if parseError == .invalidEOFState {
                return (.badRequest, RegistryError(.sizeInvalid, "the request body ended before its Content-Length"))
            }
            return (.badRequest, RegistryError(.unsupported, "malformed HTTP request", detail: "\(parseError)"))
        case is CancellationError:
            logger.warning("request cancelled: the server is stopping")
            return (.serviceUnavailable, RegistryError(.unavailable, "the registry is shutting down; retry"))
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return (.internalServerError, RegistryError(.unknown, "internal server error"))
        }
    }

    /// The status of a domain error: the condition's when it has one, else the code's.
    static func status(for error: RegistryError) -> HTTPResponse.Status {
        switch error.condition {
        case .rangeMismatch: return .rangeNotSatisfiable
        case .tooLarge: return .contentTooLarge
        case .noSuchEndpoint: return .notFound
        case .malformedRequest: return .badRequest
        case .retryLater: return .serviceUnavailable
        case nil: break
        }
        switch error.code {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: return .notFound
        case .blobUploadInvalid, .digestInvalid, .manifestBlobUnknown, .manifestInvalid, .nameInvalid, .sizeInvalid,
            .tagInvalid:
            return .badRequest
        case .unauthorized: return .unauthorized
        case .denied: return .forbidden
        case .unsupported: return .methodNotAllowed
        case .tooManyRequests: return .tooManyRequests
        case .unavailable: return .serviceUnavailable
        case .unknown: return .internalServerError
        }
    }

    private static func storageAnswer(_ failure: any StorageFailure, logger: Logger) -> (HTTPResponse.Status, RegistryError) {
        switch failure.storageCondition {
        case .noSpace:
            logger.error("storage is full", metadata: ["error": "\(failure)"])
            return (.init(code: 507), RegistryError(.unavailable, "the registry's storage is full"))
        case .readOnly:
            logger.error("storage is read-only", metadata: ["error": "\(failure)"])
            return (.serviceUnavailable, RegistryError(.unavailable, "the registry's storage is read-only"))
        case .temporarilyUnavailable:
            logger.error("storage unavailable for now", metadata: ["error": "\(failure)"])
            // Retry-After: the database is busy, restarting or unreachable for a moment.
            return (
                .serviceUnavailable,
                RegistryError(.unavailable, "the registry's database is busy; retry", condition: .retryLater)
            )
        case .failed:
            logger.error("request failed", metadata: ["error": "\(failure)"])
            return (.internalServerError, RegistryError(.unknown, "internal server error"))
        }
    }
}

/// An answer that belongs to HTTP itself rather than to the registry's rules: an unknown
/// endpoint, a method an endpoint does not take, a malformed query, a failing health gate.
struct HTTPRefusal: Error {
    var status: HTTPResponse.Status
    var error: RegistryError

    init(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, detail: String? = nil) {
        self.status = status
        error = RegistryError(code, message, detail: detail)
    }
}

/// `{"errors":[{"code":…,"message":…,"detail":…}]}`
struct OCIErrorBody: Encodable {
    struct Entry: Encodable {
        var code: ErrorCode
        var message: String
        var detail: String?
    }

    var errors: [Entry]

    init(_ error: RegistryError) {
        errors = [Entry(code: error.code, message: error.message, detail: error.detail)]
    }
}
