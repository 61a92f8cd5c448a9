/// `berth.audit`.
extension ConfigReader {
    /// ```yaml
    /// berth:
    ///   audit:
    ///     path: /var/lib/registry/audit.log   # relative paths resolve against config.yml's folder
    ///     maxsize: 100MiB                     # bytes, or with KiB, MiB, GiB (default 100MiB)
    ///     maxbackups: 5                       # rotated files kept (default 5)
    /// ```
    mutating func readAudit(_ audit: Section) throws(ConfigurationError) -> RegistryConfiguration.Audit? {
        warnUnknown(audit, known: ["path", "maxsize", "maxbackups"])
        guard let path = try string(audit, "path"), !path.isEmpty else {
            if audit.entries.isEmpty { return nil }
            throw error(audit.line, audit.keyPath("path"), "missing: where the audit log is written")
        }
        var result = RegistryConfiguration.Audit(path: resolve(path))
        if let text = try string(audit, "maxsize") {
            guard let size = Self.byteCount(text), size >= 4096 else {
                throw error(
                    audit.node("maxsize")?.line, audit.keyPath("maxsize"),
                    "expected a size of at least 4096 bytes such as 100MiB, got \"\(text)\"")
            }
            result.maxSize = size
        }
        if let text = try string(audit, "maxbackups") {
            guard let count = Int(text), (1...1000).contains(count) else {
                throw error(audit.node("maxbackups")?.line, audit.keyPath("maxbackups"), "expected 1 to 1000, got \"\(text)\"")
            }
            result.maxBackups = count
        }
        return result
    }

    /// `104857600`, `100MiB`, `100MB` (read as MiB), `512KiB`, `1GiB`.
    static func byteCount(_ text: String) -> Int64? {
        let digits = text.prefix(while: \.isNumber)
        guard let number = Int64(digits) else { return nil }
        let unit = text.dropFirst(digits.count).lowercased().filter { !$0.isWhitespace }
        let multiplier: Int64
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
