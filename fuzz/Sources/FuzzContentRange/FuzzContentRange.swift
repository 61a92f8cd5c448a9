import RegistryCore

/// Any text as an upload's `Content-Range` (with and without a `Content-Length`) and as a
/// download's `Range` against a few blob sizes. Accepted ranges must be well-formed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContentRange(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for length in [nil, 0, 1, 100, Int64.max] as [Int64?] {
        if let range = try? ContentRange(parsing: text, contentLength: length) {
            precondition(range.start >= 0 && range.length >= 0)
            precondition(length == nil || range.length == length)
        }
    }
    for blobSize in [0, 1, 1000, Int64.max] as [Int64] {
        if case .partial(let range) = ByteRange.resolve(text, size: blobSize) {
            precondition(range.lowerBound >= 0 && range.upperBound <= blobSize && !range.isEmpty)
        }
    }
    return 0
}
