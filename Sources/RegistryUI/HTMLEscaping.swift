import Mustache

/// The escaping every `{{value}}` in the UI's templates gets: `&`, `<`, `>`, `"` and `'`
/// become character references, as the library's own HTML content type does, but over the
/// string's UTF-8 bytes.
///
/// Two reasons. Speed: the library looks every `Character` up in a dictionary, which was a
/// sixth of a 50-row page's time; most values (digests, sizes, names) hold nothing to escape
/// and are returned as they are after one pass over their bytes. Safety: the library compares
/// whole grapheme clusters, so a quote followed by a combining mark (`"\u{301}`) is one
/// `Character` that is not `"` and went out unescaped, while a browser's HTML parser reads
/// code points and would end the attribute there. Escaping bytes has no such gap.
struct HTMLEscaping: MustacheContentType {
    /// The name templates select it by: `{{% CONTENT_TYPE: BERTH_HTML}}`.
    static let name = "BERTH_HTML"

    func escapeText(_ text: String) -> String { Self.escape(text) }

    static func escape(_ text: String) -> String {
        let bytes = text.utf8
        guard bytes.contains(where: needsEscaping) else { return text }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(bytes.count + 32)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): escaped.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): escaped.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): escaped.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): escaped.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): escaped.append(contentsOf: "&#39;".utf8)
            default: escaped.append(byte)
            }
        }
        return String(decoding: escaped, as: UTF8.self)
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
