import Crypto
import Foundation

/// Signs and checks the UI's session cookie and CSRF tokens with HMAC-SHA256.
///
/// A session is `base64url(JSON {user, expiry}) "." base64url(HMAC(payload))`: the server
/// keeps no session table, and a cookie made with another key, or changed, or expired, is
/// refused. A CSRF token is an HMAC of the session value under a separate label, so a page's
/// token is worth nothing in another session and a cross-site page cannot compute it.
struct SessionSigner: Sendable {
    private let key: SymmetricKey

    /// The key is derived from `http.secret` when there is one (so that every server of a
    /// cluster and a restarted server accept the same cookies), else random.
    init(secret: String?) {
        if let secret, !secret.isEmpty {
            key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("berth-ui-session-v1".utf8),
                outputByteCount: 32)
        } else {
            key = SymmetricKey(size: .bits256)
        }
    }

    private struct Payload: Codable {
        var u: String
        var e: Int64
    }

    /// A session value for `user` that expires at `expiry`.
    func session(user: String, expiry: Date) -> String {
        let payload = (try? JSONEncoder().encode(Payload(u: user, e: Int64(expiry.timeIntervalSince1970)))) ?? Data()
        let encoded = Base64URL.encode(payload)
        return encoded + "." + Base64URL.encode(Data(mac("session", encoded)))
    }

    /// The user a session value names, if its signature is ours and it has not expired.
    func user(ofSession value: String, now: Date = Date()) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Base64URL.decode(String(parts[1])),
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Data(("session\u{0}" + parts[0]).utf8), using: key),
            let payloadBytes = Base64URL.decode(String(parts[0])),
            let payload = try? JSONDecoder().decode(Payload.self, from: payloadBytes),
            Int64(now.timeIntervalSince1970) < payload.e
        else { return nil }
        return payload.u
    }

    /// The CSRF token of a session (or of visitors without one).
    func csrfToken(session: String?) -> String {
        Base64URL.encode(Data(mac("csrf", session ?? "anonymous")))
    }

    /// Whether `token` is the CSRF token of `session`, compared in constant time.
    func checkCSRF(_ token: String, session: String?) -> Bool {
        guard let bytes = Base64URL.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes, authenticating: Data(("csrf\u{0}" + (session ?? "anonymous")).utf8), using: key)
    }

    private func mac(_ label: String, _ value: some StringProtocol) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: Data((label + "\u{0}" + value).utf8), using: key)
    }
}

/// Base64 with the URL- and cookie-safe alphabet and no padding.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ $0 < 128 }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
