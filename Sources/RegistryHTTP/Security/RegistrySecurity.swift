import Hummingbird
import HummingbirdCore
import Logging
import RegistryCore
import ServiceLifecycle
import UnixSignals

/// TLS and authentication as `config.yml` asks for them, checked before the server listens.
struct RegistrySecurity: Sendable {
    let tls: TLSContextSource?
    /// Nil when `config.yml` configures no authentication: everything is open.
    let authenticator: (any RequestAuthenticator)?
    /// Trapped before the server listens, so that an early SIGHUP cannot end the process.
    let hangups: UnixSignalsSequence

    /// Fails with an ``InvalidSetting`` naming the file that cannot be used.
    init(configuration: RegistryConfiguration, logger: Logger) async throws {
        hangups = await UnixSignalsSequence(trapping: .sighup)
        tls = try configuration.http.tls.map(TLSContextSource.init(settings:))
        let policy = configuration.berth.access
        if let settings = configuration.auth.htpasswd {
            let file = try HTPasswdFile(path: settings.path, logger: logger)
            authenticator = HTPasswdAuthenticator(file: file, realm: settings.realm, policy: policy)
        } else if let settings = configuration.auth.token {
            authenticator = try await TokenAuthenticator(settings: settings, policy: policy, logger: logger)
        } else {
            authenticator = nil
            if policy.isConfigured {
                logger.warning("berth.access has no effect without auth.htpasswd or auth.token")
            }
        }
        if configuration.auth.token != nil, policy.rules != nil {
            logger.warning("berth.access.rules apply to htpasswd users; with auth.token the token's access claim decides")
        }
        if policy.rules != nil, configuration.berth.mountAnywhere {
            logger.warning(
                "berth.mount.anywhere lets a user who knows a digest link a blob from a repository the access rules hide")
        }
    }

    /// Plain HTTP/1, or HTTPS whose certificate SIGHUP reloads.
    func serverBuilder(idleTimeout: Duration, readTimeout: Duration, guards: ConnectionGuards) -> HTTPServerBuilder {
        guard let tls else { return .registryHTTP1(idleTimeout: idleTimeout, readTimeout: readTimeout, guards: guards) }
        return .registryHTTPS(idleTimeout: idleTimeout, readTimeout: readTimeout, guards: guards, contexts: tls)
    }

    /// SIGHUP reloads the TLS certificate and key (the htpasswd file reloads by itself when it changes).
    func services(logger: Logger) -> [any Service] {
        let tls = self.tls
        return [
            HangupReloadService(hangups: hangups, logger: logger) {
                tls?.reload(logger: logger)
            }
        ]
    }

    var authenticationName: String {
        switch authenticator {
        case is HTPasswdAuthenticator: "htpasswd"
        case is TokenAuthenticator: "token"
        default: "none"
        }
    }
}
