import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A private CA, a server certificate for some hosts and a client certificate, as docker-machine
/// makes them for `--tlsverify`.
struct CertificateSet {
    struct Issued {
        var certificatePEM: String
        var keyPEM: String
    }

    var authority: Issued
    var server: Issued
    var client: Issued

    /// Each host becomes an IP address subjectAltName when it parses as one, else a DNS name.
    init(hosts: [String], days: Int, rsa: Bool) throws {
        let now = Date()
        let notBefore = now.addingTimeInterval(-300)
        let notAfter = now.addingTimeInterval(TimeInterval(days) * 86400)
        func newKey() throws -> Certificate.PrivateKey {
            rsa ? Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048)) : Certificate.PrivateKey(P256.Signing.PrivateKey())
        }
        let algorithm: Certificate.SignatureAlgorithm = rsa ? .sha256WithRSAEncryption : .ecdsaWithSHA256

        let caKey = try newKey()
        let caName = try DistinguishedName {
            OrganizationName("Berth")
            CommonName("Berth registry CA")
        }
        let caCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: caKey.publicKey, notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: caName, subject: caName, signatureAlgorithm: algorithm,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: caKey.publicKey)
            },
            issuerPrivateKey: caKey)
        let authorityKeyID = AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caKey.publicKey).keyIdentifier)

        func issue(commonName: String, usage: ExtendedKeyUsage.Usage, names: [GeneralName]) throws -> Issued {
            let key = try newKey()
            let subject = try DistinguishedName {
                OrganizationName("Berth")
                CommonName(commonName)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: notBefore,
                notValidAfter: notAfter, issuer: caName, subject: subject, signatureAlgorithm: algorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: rsa))
                    try ExtendedKeyUsage([usage])
                    authorityKeyID
                    if !names.isEmpty { SubjectAlternativeNames(names) }
                },
                issuerPrivateKey: caKey)
            return Issued(certificatePEM: try certificate.serializeAsPEM().pemString, keyPEM: try key.serializeAsPEM().pemString)
        }

        authority = Issued(
            certificatePEM: try caCertificate.serializeAsPEM().pemString, keyPEM: try caKey.serializeAsPEM().pemString)
        server = try issue(
            commonName: hosts.first ?? "registry", usage: .serverAuth, names: hosts.map(Self.subjectAltName))
        client = try issue(commonName: "registry client", usage: .clientAuth, names: [])
    }

    static func subjectAltName(_ host: String) -> GeneralName {
        if let bytes = ipAddressBytes(host) { return .ipAddress(ASN1OctetString(contentBytes: bytes[...])) }
        return .dnsName(host)
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address, or nil for a name.
    static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
