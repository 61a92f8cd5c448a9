import Foundation
import Logging
import NIOSSL
import RegistryCore
import Synchronization

/// The TLS context new connections take, built from `http.tls`. ``reload(logger:)`` swaps in a
/// context made from the files as they are now; connections in flight keep the one they
/// started with.
final class TLSContextSource: Sendable {
    private let settings: RegistryConfiguration.TLS
    private let current: Mutex<NIOSSLContext>

    /// Fails with an ``InvalidSetting`` that names the unreadable or mismatched file.
    init(settings: RegistryConfiguration.TLS) throws {
        self.settings = settings
        current = Mutex(try Self.makeContext(settings))
    }

    var context: NIOSSLContext { current.withLock { $0 } }

    /// Re-reads certificate and key; on failure keeps the context in use and logs why.
    func reload(logger: Logger) {
        do {
            let context = try Self.makeContext(settings)
            current.withLock { $0 = context }
            logger.info("reloaded TLS certificate and key", metadata: ["certificate": "\(settings.certificate)"])
        } catch {
            logger.error("TLS reload failed; still serving the previous certificate", metadata: ["error": "\(error)"])
        }
    }

    static func makeContext(_ settings: RegistryConfiguration.TLS) throws -> NIOSSLContext {
        let chain = try load("http.tls.certificate", settings.certificate) {
            try NIOSSLCertificate.fromPEMFile($0).map(NIOSSLCertificateSource.certificate)
        }
        guard !chain.isEmpty else {
            throw InvalidSetting(key: "http.tls.certificate", message: "\(settings.certificate) holds no PEM certificate")
        }
        let key = try load("http.tls.key", settings.key) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration: TLSConfiguration
        if settings.clientCAs.isEmpty {
            configuration = .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        } else {
            var authorities: [NIOSSLCertificate] = []
            for path in settings.clientCAs {
                authorities += try load("http.tls.clientcas", path) { try NIOSSLCertificate.fromPEMFile($0) }
            }
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain, privateKey: .privateKey(key), trustRoots: .certificates(authorities))
            // Clients pick their certificate by the names of the accepted authorities.
            configuration.sendCANameList = true
        }
        configuration.minimumTLSVersion =
            switch settings.minimumTLS {
            case .tls12: .tlsv12
            case .tls13: .tlsv13
            }
        configuration.cipherSuiteValues = try TLSCipherSuites.ciphers(settings.cipherSuites)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw InvalidSetting(
                key: "http.tls",
                message: "\(settings.key) does not match the certificate \(settings.certificate) (\(error))")
        }
    }

    private static func load<T>(_ key: String, _ path: String, _ read: (String) throws -> T) throws -> T {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw InvalidSetting(key: key, message: "cannot read \(path)")
        }
        do {
            return try read(path)
        } catch {
            throw InvalidSetting(key: key, message: "\(path) is not valid PEM (\(error))")
        }
    }
}
