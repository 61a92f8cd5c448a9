import Logging
import RegistryUI

extension RegistrySecurity {
    /// How the web UI signs people in: the same htpasswd file and check as the API's Basic
    /// authentication (bcrypt, an absent user costing as much as a present one), counted by
    /// the same failure limiter, so that guessing through the form is refused as through the API.
    func webUISignIn(failures: AuthFailureLimiter?, logger: Logger) -> WebUISettings.SignIn {
        switch authenticator {
        case let htpasswd as HTPasswdAuthenticator:
            let file = htpasswd.file
            return .htpasswd(verify: { user, password, client in
                if let failures, case .refuse(let retryAfter, let log) = failures.check(address: client, user: user) {
                    if log {
                        logger.warning(
                            "too many failed web UI sign-ins; refusing further attempts without checking them",
                            metadata: ["client": "\(client)", "user": "\(user)", "retry_after": "\(retryAfter)"])
                    }
                    return .throttled(retryAfter: retryAfter)
                }
                guard await file.verify(user: user, password: password) else {
                    failures?.recordFailure(address: client, user: user)
                    return .refused
                }
                failures?.recordSuccess(user: user)
                return .accepted
            })
        case let token as TokenAuthenticator:
            return .token(realm: token.settings.realm)
        default:
            return .open
        }
    }
}
