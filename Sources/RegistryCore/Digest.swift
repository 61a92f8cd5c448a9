/// A content digest, `algorithm:hex`, as the OCI image spec defines it.
///
/// Only the registered algorithms are accepted, with lower-case hex of the right length.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let algorithm: DigestAlgorithm
    public let hex: String

    public init(algorithm: DigestAlgorithm, hex: String) throws(RegistryError) {
        guard hex.utf8.count == algorithm.hexLength,
            hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else {
            throw RegistryError(
                .digestInvalid, "invalid \(algorithm.rawValue) digest",
                detail: "expected \(algorithm.hexLength) lower-case hex characters")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`.
    ///
    /// Over the UTF-8 bytes: every blob request and every listed manifest parses one, and the
    /// generic `StringProtocol` form, called across modules unspecialized, spent its time in
    /// the runtime's generic metadata lookups (5% of a 50-tag UI page).
    public init(parsing string: String) throws(RegistryError) {
        let bytes = string.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else {
            throw RegistryError(.digestInvalid, "invalid digest", detail: String(string.prefix(160)))
        }
        let name = bytes[..<colon]
        guard let algorithm = DigestAlgorithm.allCases.first(where: { name.elementsEqual($0.rawValue.utf8) }) else {
            throw RegistryError(
                .digestInvalid, "unsupported digest algorithm", detail: String(String(string[..<colon]).prefix(64)))
        }
        try self.init(algorithm: algorithm, hex: String(string[bytes.index(after: colon)...]))
    }

    /// Parses a digest in a substring (of a path or a header).
    public init(parsing string: some StringProtocol) throws(RegistryError) {
        try self.init(parsing: String(string))
    }

    /// For hex produced by a hash function, which is valid by construction.
    init(trusted algorithm: DigestAlgorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

public enum DigestAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha256
    case sha512

    public var hexLength: Int {
        switch self {
        case .sha256: 64
        case .sha512: 128
        }
    }
}
