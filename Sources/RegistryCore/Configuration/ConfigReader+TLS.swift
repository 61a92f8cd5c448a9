/// `http.tls.ciphersuites` and `berth.tls`.
extension ConfigReader {
    /// The TLS 1.2 suites a `ciphersuites` list leaves, or nil when the key is absent.
    ///
    /// Unknown and unsupported names stop the server; suites outside the intermediate profile
    /// are warned about. TLS 1.3 names are accepted (Distribution's defaults list them) and
    /// change nothing: BoringSSL offers its three TLS 1.3 suites, all AEAD, always.
    mutating func readCipherSuites(
        _ tls: Section, minimum: RegistryConfiguration.TLSVersion
    ) throws(ConfigurationError) -> [String]? {
        guard let node = tls.node("ciphersuites"), !node.isNull else { return nil }
        let key = tls.keyPath("ciphersuites")
        var chosen: [String] = []
        var weak: [String] = []
        for name in try strings(node, key) {
            let upper = name.trimmingWhitespace().uppercased()
            guard let suite = TLSCipherSuites.known[upper] else {
                let reason =
                    TLSCipherSuites.unsupported.contains(upper)
                    ? "is not supported (RC4, 3DES and the SHA-256 CBC suites are gone from BoringSSL)"
                    : "is not a cipher suite name such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
                throw error(node.line, key, "\"\(name)\" \(reason)")
            }
            switch suite.kind {
            case .tls13: continue
            case .weak: weak.append(upper)
            case .intermediate: break
            }
            if !chosen.contains(suite.standardName) { chosen.append(suite.standardName) }
        }
        if !weak.isEmpty {
            note(tls, "ciphersuites", "offers \(weak.joined(separator: ", ")), outside Mozilla's intermediate profile (CBC or RSA key exchange)")
        }
        if chosen.isEmpty {
            // Only TLS 1.3 names: fine when TLS 1.2 is off, otherwise TLS 1.2 could not handshake.
            guard minimum == .tls13 else {
                throw error(node.line, key, "names no TLS 1.2 cipher suite; add one or set minimumtls: tls1.3")
            }
            return TLSCipherSuites.intermediate
        }
        return chosen
    }

    /// ```yaml
    /// berth:
    ///   tls:
    ///     hsts: true            # Strict-Transport-Security on HTTPS responses (default true)
    ///     hstsmaxage: 63072000  # seconds (default two years)
    /// ```
    mutating func readStrictTransportSecurity(
        _ tls: Section
    ) throws(ConfigurationError) -> RegistryConfiguration.StrictTransportSecurity {
        warnUnknown(tls, known: ["hsts", "hstsmaxage"])
        var result = RegistryConfiguration.StrictTransportSecurity()
        if let text = try string(tls, "hsts") {
            guard let enabled = Self.boolean(text) else {
                throw error(tls.node("hsts")?.line, tls.keyPath("hsts"), "expected true or false, got \"\(text)\"")
            }
            result.enabled = enabled
        }
        if let text = try string(tls, "hstsmaxage") {
            guard let seconds = Int(text), seconds >= 0 else {
                throw error(
                    tls.node("hstsmaxage")?.line, tls.keyPath("hstsmaxage"),
                    "expected a number of seconds such as 63072000, got \"\(text)\"")
            }
            result.maxAge = seconds
        }
        return result
    }

    /// YAML's spellings of a boolean, as the other keys read them.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }
}
