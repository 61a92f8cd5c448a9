import GRDB
import HTTPTypes
import Hummingbird
import Logging
import RegistryCore
import RegistryStorage

/// Turns any error a handler throws into an OCI error response.
enum ErrorResponse {
    static func make(for error: any Error, method: HTTPRequest.Method, logger: Logger) -> Response {
        let registryError = translate(error, logger: logger)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let body = ByteBuffer(string: registryError.jsonBody)
        headers[.contentLength] = String(body.readableBytes)
        if let limited = error as? TooManyRequests { headers[.retryAfter] = String(limited.retryAfter) }
        // A HEAD answer carries the status and headers only.
        return Response(
            status: .init(code: registryError.status), headers: headers,
            body: method == .head ? ResponseBody() : ResponseBody(byteBuffer: body))
    }

    static func translate(_ error: any Error, logger: Logger) -> RegistryError {
        switch error {
        case let error as RegistryError:
            return error
        case let limited as TooManyRequests:
            return limited.registryError
        case let failure as any StorageFailure where failure.isNoSpace:
            logger.error("storage is full", metadata: ["error": "\(failure)"])
            return RegistryError(.unavailable, "the registry's storage is full", status: 507)
        case let failure as any StorageFailure where failure.isReadOnly:
            logger.error("storage is read-only", metadata: ["error": "\(failure)"])
            return RegistryError(.unavailable, "the registry's storage is read-only", status: 503)
        case let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED:
            logger.error("database busy", metadata: ["error": "\(error.message ?? "")"])
            return RegistryError(.unavailable, "the registry's database is busy; retry", status: 503)
        case let error as DatabaseError where error.resultCode == .SQLITE_FULL:
            logger.error("database disk full", metadata: ["error": "\(error.message ?? "")"])
            return RegistryError(.unavailable, "the registry's storage is full", status: 507)
        case let error as HTTPError:
            if error.status == .contentTooLarge {
                return RegistryError(.sizeInvalid, "request body too large", status: 413)
            }
            return RegistryError(.unknown, error.body ?? "request failed", status: error.status.code)
        case is CancellationError:
            logger.warning("request cancelled: the server is stopping")
            return RegistryError(.unavailable, "the registry is shutting down; retry", status: 503)
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return RegistryError(.unknown, "internal server error")
        }
    }
}
