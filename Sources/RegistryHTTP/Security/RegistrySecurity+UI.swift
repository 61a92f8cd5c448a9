import RegistryUI

extension RegistrySecurity {
    /// How the web UI signs people in: the same htpasswd file and check as the API's Basic
    /// authentication (bcrypt, an absent user costing as much as a present one).
    var webUISignIn: WebUISettings.SignIn {
        switch authenticator {
        case let htpasswd as HTPasswdAuthenticator:
            let file = htpasswd.file
            return .htpasswd(verify: { user, password in await file.verify(user: user, password: password) })
        case let token as TokenAuthenticator:
            return .token(realm: token.settings.realm)
        default:
            return .open
        }
    }
}
