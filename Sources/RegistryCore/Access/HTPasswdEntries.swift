import Foundation

/// The bcrypt entries of an htpasswd file, as Apache's `htpasswd -B` writes them.
public struct HTPasswdEntries: Sendable, Equatable {
    /// User name to bcrypt hash (`$2a$`, `$2b$` or `$2y$`).
    public var hashes: [String: String] = [:]
    /// Users whose entry is not bcrypt (MD5, SHA-1, crypt, plain) and is refused.
    public var refusedUsers: [String] = []

    public init(hashes: [String: String] = [:], refusedUsers: [String] = []) {
        self.hashes = hashes
        self.refusedUsers = refusedUsers
    }

    /// Parses `user:hash` lines; blank lines and `#` comments are skipped. A later line for
    /// the same user wins, as in Apache.
    public init(parsing text: String) {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            let user = String(line[..<colon])
            let hash = String(line[line.index(after: colon)...])
            if Self.isBcrypt(hash) {
                hashes[user] = hash
                refusedUsers.removeAll { $0 == user }
            } else {
                hashes[user] = nil
                refusedUsers.append(user)
            }
        }
    }

    public static func isBcrypt(_ hash: String) -> Bool {
        (hash.hasPrefix("$2a$") || hash.hasPrefix("$2b$") || hash.hasPrefix("$2y$")) && hash.utf8.count == 60
    }

    /// The file's text with `user`'s entry replaced or added at the end.
    public static func replacing(user: String, hash: String, in text: String) -> String {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let entry = "\(user):\(hash)"
        let index = lines.firstIndex { $0.hasPrefix(user + ":") }
        lines.removeAll { $0.hasPrefix(user + ":") }
        lines.insert(entry, at: index ?? lines.count)
        return lines.joined(separator: "\n") + "\n"
    }
}
