import Foundation
import NIOSSL
import PostgresNIO
import RegistryCore

/// Turns `database:` into postgres-nio's client configuration.
///
/// `sslmode` follows libpq: `disable` speaks plain TCP; `allow` and `prefer` use TLS when the
/// server offers it, unverified; `require` insists on TLS (verified against `sslrootcert` when
/// one is given, as libpq does); `verify-ca` checks the chain; `verify-full` also the host name.
/// The pool: `maxopen` is the most connections, `maxidle` those kept open while idle, and
/// `maxlifetime` how long a connection beyond those may stay idle (postgres-nio closes idle
/// connections rather than aging busy ones).
enum PostgresConnectionSettings {
    static func client(_ settings: RegistryConfiguration.Database, database: String? = nil) throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password.isEmpty ? nil : settings.password, database: database ?? settings.dbname,
            tls: try tls(settings))
        configuration.options.connectTimeout = settings.connectTimeout
        // One connection is held by the LISTEN side of the change notifier.
        configuration.options.maximumConnections = max(2, settings.pool.maxOpen)
        configuration.options.minimumConnections = min(settings.pool.maxIdle, configuration.options.maximumConnections)
        if let lifetime = settings.pool.maxLifetime { configuration.options.connectionIdleTimeout = lifetime }
        return configuration
    }

    static func tls(_ settings: RegistryConfiguration.Database) throws -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let root = settings.sslRootCert { tls.trustRoots = .file(root) }
        if let cert = settings.sslCert, let key = settings.sslKey {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw DatabaseStartupFailure("database.sslcert/sslkey: cannot read \(cert) or \(key): \(error)")
            }
        }
        switch settings.sslMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            tls.certificateVerification = .none
            return .prefer(tls)
        case .require:
            tls.certificateVerification = settings.sslRootCert == nil ? .none : .noHostnameVerification
            return .require(tls)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(tls)
        }
    }
}
