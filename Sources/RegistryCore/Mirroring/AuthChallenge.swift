/// A `WWW-Authenticate` challenge from an upstream registry: its scheme (`Bearer`, `Basic`)
/// and parameters (`realm`, `service`, `scope`), as RFC 7235 writes them.
///
/// Registries send one challenge per header; the parser takes the first challenge of a value
/// and tolerates the quoting variants seen in the wild (quoted strings with escapes, bare
/// tokens, spaces around `=`).
public struct AuthChallenge: Sendable, Equatable {
    /// Lower-cased: `bearer` or `basic`.
    public var scheme: String
    /// Parameter names lower-cased.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    public init?(parsing header: String) {
        var rest = Substring(header).drop(while: \.isWhitespace)
        let scheme = rest.prefix(while: { !$0.isWhitespace && $0 != "," })
        guard !scheme.isEmpty else { return nil }
        self.scheme = scheme.lowercased()
        rest = rest.dropFirst(scheme.count)
        var parameters: [String: String] = [:]
        while true {
            rest = rest.drop(while: { $0.isWhitespace || $0 == "," })
            let name = rest.prefix(while: { $0 != "=" && !$0.isWhitespace && $0 != "," })
            guard !name.isEmpty else { break }
            rest = rest.dropFirst(name.count).drop(while: \.isWhitespace)
            // A token without "=" starts the next challenge: stop at the first one.
            guard rest.first == "=" else { break }
            rest = rest.dropFirst().drop(while: \.isWhitespace)
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped {
                        value.append(character)
                        escaped = false
                    } else if character == "\\" {
                        escaped = true
                    } else if character == "\"" {
                        break
                    } else {
                        value.append(character)
                    }
                }
            } else {
                let token = rest.prefix(while: { $0 != "," && !$0.isWhitespace })
                value = String(token)
                rest = rest.dropFirst(token.count)
            }
            parameters[name.lowercased()] = value
        }
        self.parameters = parameters
    }
}
