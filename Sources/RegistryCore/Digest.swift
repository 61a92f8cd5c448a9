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
    public init(parsing string: some StringProtocol) throws(RegistryError) {
        guard let colon = string.firstIndex(of: ":") else {
            throw RegistryError(.digestInvalid, "invalid digest", detail: String(string.prefix(160)))
        }
        let name = String(string[..<colon])
        guard let algorithm = DigestAlgorithm(rawValue: name) else {
            throw RegistryError(
                .digestInvalid, "unsupported digest algorithm", detail: String(name.prefix(64)))
        }
        try self.init(algorithm: algorithm, hex: String(string[string.index(after: colon)...]))
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
