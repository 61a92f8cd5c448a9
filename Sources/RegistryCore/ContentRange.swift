/// The `Content-Range` of an upload chunk: `<start>-<end>`, inclusive, also accepted with a
/// `bytes ` prefix and a `/<total>` suffix (as some clients send).
public struct ContentRange: Sendable, Equatable {
    public let start: Int64
    /// Inclusive; `start - 1` for an empty chunk.
    public let end: Int64

    public var length: Int64 { end - start + 1 }

    /// Parses the header and, when given, checks it against `Content-Length`.
    /// - Throws: `BLOB_UPLOAD_INVALID` (a range mismatch) for a malformed range or one that disagrees with the length.
    public init(parsing header: String, contentLength: Int64? = nil) throws(RegistryError) {
        var text = Substring(header)
        if text.hasPrefix("bytes ") { text = text.dropFirst(6) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int64(parts[0]), let end = Int64(parts[1]), start >= 0,
            end >= start - 1, end < Int64.max
        else {
            throw RegistryError(.blobUploadInvalid, "malformed Content-Range", detail: String(header.prefix(256)), condition: .rangeMismatch)
        }
        self.start = start
        self.end = end
        if let contentLength, contentLength != length {
            throw RegistryError(
                .blobUploadInvalid, "Content-Range and Content-Length disagree", detail: String(header.prefix(256)),
                condition: .rangeMismatch)
        }
    }
}
