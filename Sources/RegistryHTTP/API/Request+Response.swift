import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// The `Content-Length` header as a number, if present and valid.
    var contentLength: Int64? {
        headers[.contentLength].flatMap { Int64($0) }
    }

    /// The first value of a query parameter, percent-decoded.
    func query(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init)
    }
}

extension Response {
    /// A JSON body from a Codable value; headers only for HEAD.
    static func json(
        _ value: some Encodable, status: HTTPResponse.Status = .ok, method: HTTPRequest.Method, headers: HTTPFields = [:]
    ) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Strings, numbers and arrays of them always encode.
        let bytes = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return data(ByteBuffer(bytes: bytes), contentType: "application/json; charset=utf-8", status: status, method: method, headers: headers)
    }

    /// A body of known bytes with its length; headers only for HEAD.
    static func data(
        _ buffer: ByteBuffer, contentType: String, status: HTTPResponse.Status = .ok, method: HTTPRequest.Method,
        headers: HTTPFields = [:]
    ) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: method == .head ? ResponseBody() : .init(byteBuffer: buffer))
    }

    static func empty(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}
