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
/// connections rather than aging busy ones), at most ``longestIdleTime``.
enum PostgresConnectionSettings {
    /// How long a connection beyond `maxidle` stays open while idle, at most.
    ///
    /// Why so short: postgres-nio arms a timer of this length each time such a connection goes
    /// back to the pool idle, and cancels it when the connection is leased again; a cancelled
    /// `Task.sleep` keeps about 0.8 KiB until the time it was set for. Under load that is
    /// most requests, so memory grows with the rate times this time: measured at 4,000 requests
    /// a second, 60 s let registryd's anonymous memory climb to 56 MiB and on over three 10 s
    /// runs (and 5 m, the value GitLab's examples use, would reach gigabytes), 10 s held it at
    /// 28 MiB, 5 s at 18 MiB, the same as with no database. Go's database/sql, which GitLab's
    /// registry uses, closes a connection beyond `maxidle` at once when it is released.
    static let longestIdleTime: Duration = .seconds(5)


    static func client(_ settings: RegistryConfiguration.Database, database: String? = nil) throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user,
            password: settings.password.isEmpty ? nil : settings.password, database: database ?? settings.dbname,
            tls: try tls(settings))
        configuration.options.connectTimeout = settings.connectTimeout
        // One connection is held by the LISTEN side of the cache coherence (PostgresCacheCoherence).
        configuration.options.maximumConnections = max(2, settings.pool.maxOpen)
        configuration.options.minimumConnections = min(settings.pool.maxIdle, configuration.options.maximumConnections)
        configuration.options.connectionIdleTimeout = min(settings.pool.maxLifetime ?? longestIdleTime, longestIdleTime)
        // No keep-alive queries on idle connections: postgres-nio arms a timer for them each
        // time a connection goes idle (the same cost as above, for 30 s each). A connection the
        // server closed while idle leaves the pool when its socket closes, keep-alive or not; one
        // that hangs without closing makes a query wait until the request deadline (a 503), and
        // a keep-alive query sent on it would hang the same way.
        configuration.options.keepAliveBehavior = nil
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
