import HTTPTypes
import RegistryCore

/// `Strict-Transport-Security`, sent with every response when registryd serves HTTPS and
/// `berth.tls.hsts` is not off. Over plain HTTP the header means nothing (browsers ignore it
/// there), so it is not sent.
enum StrictTransportSecurityHeader {
    static let name = HTTPField.Name("Strict-Transport-Security")!

    static func fields(_ configuration: RegistryConfiguration) -> [(HTTPField.Name, String)] {
        let hsts = configuration.berth.hsts
        guard configuration.http.tls != nil, hsts.enabled else { return [] }
        return [(name, hsts.headerValue)]
    }
}
