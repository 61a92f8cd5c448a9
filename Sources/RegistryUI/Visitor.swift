import HTTPTypes
import Hummingbird
import RegistryCore

/// Who is looking at a page, and what the access rules let them see and do.
struct Visitor: Sendable {
    /// The signed-in user; nil for an anonymous visitor.
    var user: String?
    /// The raw session cookie value, which CSRF tokens are bound to.
    var session: String?
    let signIn: WebUISettings.SignIn
    let policy: AccessPolicy
    let deleteEnabled: Bool

    static let cookieName = "berth_session"

    /// Whether the visitor may see anything at all (else they are sent to the sign-in form).
    var mayBrowse: Bool {
        switch signIn {
        case .open: true
        case .htpasswd: user != nil || policy.anonymousPull
        case .token: false
        }
    }

    var usesSignIn: Bool {
        if case .htpasswd = signIn { return true }
        return false
    }

    /// The same rule the API applies to a pull of `repository`.
    func mayPull(_ repository: String) -> Bool {
        switch signIn {
        case .open: true
        case .htpasswd: policy.allows(user, AccessScope(repository: repository, actions: [.pull]))
        case .token: false
        }
    }

    /// The API's rule for a delete in `repository`, and `storage.delete.enabled`.
    func mayDelete(_ repository: String) -> Bool {
        guard deleteEnabled else { return false }
        switch signIn {
        case .open: return true
        case .htpasswd:
            return user != nil && policy.allows(user, AccessScope(repository: repository, actions: [.delete]))
        case .token: return false
        }
    }

    /// The value of one cookie in a `Cookie` header.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }
}
