import Foundation

/// `Authorization: Basic base64(user:password)`.
struct BasicCredentials: Sendable {
    var user: String
    var password: String

    init?(authorization: String) {
        guard authorization.count > 6, authorization.prefix(6).lowercased() == "basic " else { return nil }
        let encoded = authorization.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard let data = Data(base64Encoded: encoded), let text = String(data: data, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        user = String(text[..<colon])
        password = String(text[text.index(after: colon)...])
    }
}

/// The token of `Authorization: Bearer <token>`.
func bearerToken(_ authorization: String) -> String? {
    guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
    return authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
}
