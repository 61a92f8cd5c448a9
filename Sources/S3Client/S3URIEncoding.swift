/// Percent-encoding as AWS Signature Version 4 defines it: every byte but the RFC 3986
/// unreserved characters is encoded, in upper-case hex. The canonical request and the URL sent
/// must encode identically, so both come from here.
enum S3URIEncoding {
    /// An object key in a path: `/` separates segments and stays as it is.
    static func path(_ value: String) -> String {
        encode(value, keepSlash: true)
    }

    /// A query-string name or value: `/` is encoded too.
    static func query(_ value: String) -> String {
        encode(value, keepSlash: false)
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func encode(_ value: String, keepSlash: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
