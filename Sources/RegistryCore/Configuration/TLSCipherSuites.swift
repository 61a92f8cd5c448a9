/// `http.tls.ciphersuites`: the names Go's `crypto/tls` gives cipher suites, as the reference
/// registry reads them, and what each means for Berth's TLS library (BoringSSL through
/// swift-nio-ssl).
///
/// The default is Mozilla's "intermediate" profile: TLS 1.3, and for TLS 1.2 only ECDHE key
/// exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305). CBC suites (LUCKY13 and its kin)
/// and RSA key exchange (no forward secrecy) are off. A configured list narrows this set; it
/// may name older suites BoringSSL still has, which loads with a warning because it weakens
/// the profile, so that a site with old clients can choose to. Names Go knows but BoringSSL
/// lacks (RC4, 3DES, the SHA-256 CBC suites), and names nobody knows, stop the server.
public enum TLSCipherSuites {
    public enum Kind: Sendable, Equatable {
        /// ECDHE with an AEAD cipher: in the intermediate profile.
        case intermediate
        /// Still in BoringSSL, but outside the profile (CBC, or RSA key exchange).
        case weak
        /// A TLS 1.3 suite: always AEAD, and fixed by BoringSSL, so naming one changes nothing.
        case tls13
    }

    public struct Suite: Sendable, Equatable {
        /// The IANA name, which BoringSSL's cipher lists accept and swift-nio-ssl's
        /// `NIOTLSCipher.standardName` gives.
        public var standardName: String
        public var kind: Kind
    }

    /// The TLS 1.2 suites offered by default, in preference order (Mozilla intermediate, v5.7).
    public static let intermediate: [String] = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ]

    /// Go's names (including its legacy aliases without `_SHA256`) of the suites BoringSSL has.
    public static let known: [String: Suite] = {
        var table: [String: Suite] = [:]
        for name in intermediate { table[name] = Suite(standardName: name, kind: .intermediate) }
        table["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"] = table["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"]
        table["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"] = table["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"]
        for name in [
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA",
        ] {
            table[name] = Suite(standardName: name, kind: .weak)
        }
        for name in ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"] {
            table[name] = Suite(standardName: name, kind: .tls13)
        }
        return table
    }()

    /// Go names that BoringSSL does not implement.
    public static let unsupported: Set<String> = [
        "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    ]
}
