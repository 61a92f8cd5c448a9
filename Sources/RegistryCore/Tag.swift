/// A tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
public struct Tag: Hashable, Sendable, CustomStringConvertible, Comparable {
    public static let maximumLength = 128

    public let value: String

    public init(_ string: some StringProtocol) throws(RegistryError) {
        let value = String(string)
        guard Self.isValid(value) else {
            throw RegistryError(.tagInvalid, "invalid tag", detail: String(value.prefix(Self.maximumLength + 1)))
        }
        self.value = value
    }

    public var description: String { value }

    public static func < (lhs: Tag, rhs: Tag) -> Bool { lhs.value < rhs.value }

    public static func isValid(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        guard isWordByte(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)
            || byte == UInt8(ascii: "_")
    }
}
