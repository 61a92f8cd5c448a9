/// A repository name: path components of `[a-z0-9]+` joined by `.`, `_`, `__` or `-+`,
/// separated by `/`, at most 255 characters (OCI Distribution Specification).
public struct RepositoryName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public static let maximumLength = 255

    public let value: String

    public init(_ string: some StringProtocol) throws(RegistryError) {
        let value = String(string)
        guard value.utf8.count <= Self.maximumLength else {
            throw RegistryError(
                .nameInvalid, "repository name is longer than \(Self.maximumLength) characters")
        }
        guard Self.isValid(value.utf8) else {
            throw RegistryError(
                .nameInvalid, "invalid repository name", detail: String(value.prefix(Self.maximumLength)))
        }
        self.value = value
    }

    public var description: String { value }

    public static func < (lhs: RepositoryName, rhs: RepositoryName) -> Bool { lhs.value < rhs.value }

    /// Hand-written matcher for
    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
    static func isValid(_ bytes: String.UTF8View) -> Bool {
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard isValidComponent(component) else { return false }
        }
        return true
    }

    private static func isValidComponent(_ bytes: Substring.UTF8View) -> Bool {
        var previousWasAlphanumeric = false
        var separator: [UInt8] = []
        for byte in bytes {
            if isLowerAlphanumeric(byte) {
                if !separator.isEmpty {
                    guard isAllowedSeparator(separator) else { return false }
                    separator.removeAll(keepingCapacity: true)
                }
                previousWasAlphanumeric = true
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                guard previousWasAlphanumeric || !separator.isEmpty else { return false }
                separator.append(byte)
                previousWasAlphanumeric = false
            } else {
                return false
            }
        }
        return previousWasAlphanumeric
    }

    private static func isAllowedSeparator(_ separator: [UInt8]) -> Bool {
        switch separator {
        case [UInt8(ascii: ".")], [UInt8(ascii: "_")], [UInt8(ascii: "_"), UInt8(ascii: "_")]: true
        default: separator.allSatisfy { $0 == UInt8(ascii: "-") }
        }
    }

    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
    }
}
