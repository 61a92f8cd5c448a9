/// A single `Range: bytes=…` request, resolved against a blob's size.
public enum ByteRange {
    public enum Resolution: Sendable, Equatable {
        /// No usable Range header: serve everything.
        case whole
        /// Serve `lowerBound..<upperBound`.
        case partial(Range<Int64>)
        /// The range lies outside the blob: 416.
        case unsatisfiable
    }

    /// Resolves `bytes=a-b`, `bytes=a-` and `bytes=-n`. Multiple ranges and malformed headers
    /// are ignored (RFC 9110 allows serving the whole representation instead).
    public static func resolve(_ header: String?, size: Int64) -> Resolution {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).filter { $0 != " " }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Int64(last), suffix >= 0 else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)..<size)
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .partial(start..<size) }
        guard let end = Int64(last), end >= start else { return .whole }
        // `end` may be Int64.max: clamp before adding one.
        return .partial(start..<(end >= size - 1 ? size : end + 1))
    }
}
