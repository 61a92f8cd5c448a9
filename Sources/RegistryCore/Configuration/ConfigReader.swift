/// Walks the YAML tree section by section, converting values and collecting warnings
/// for keys it does not know.
struct ConfigReader {
    /// A mapping in the tree and the dotted path that leads to it.
    struct Section {
        var path: String
        var entries: [(key: String, value: ConfigNode)]
        var line: Int?

        func node(_ key: String) -> ConfigNode? {
            entries.last { $0.key.lowercased() == key }?.value
        }

        func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    }

    let file: String
    let baseDirectory: String
    private(set) var warnings: [String] = []

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    mutating func read(_ root: ConfigNode) throws(ConfigurationError) -> RegistryConfiguration {
        var config = RegistryConfiguration()
        guard case .mapping(let entries, let line) = root else {
            throw error(root.line, nil, "the configuration must be a YAML mapping")
        }
        let top = Section(path: "", entries: entries, line: line)
        warnUnknown(
            top, known: ["version", "log", "storage", "http", "health", "auth", "loglevel", "berth", "proxy", "database", "notifications"],
            ignored: ["redis", "reporting", "middleware", "validation", "compatibility"])
        if let version = try string(top, "version") { config.version = version }
        if let log = try section(top, "log") { try readLog(log, into: &config.log) }
        if let level = try string(top, "loglevel") {
            guard let parsed = Self.logLevel(level) else {
                throw error(top.node("loglevel")?.line, "loglevel", "unknown level \"\(level)\"")
            }
            config.log.level = parsed
        }
        if let storage = try section(top, "storage") { try readStorage(storage, into: &config.storage) }
        if let http = try section(top, "http") { try readHTTP(http, into: &config.http) }
        if let health = try section(top, "health") { try readHealth(health, into: &config.health) }
        if let auth = try section(top, "auth") { try readAuth(auth, into: &config.auth) }
        if let berth = try section(top, "berth") { try readBerth(berth, into: &config.berth) }
        config.mirrors = try readMirrors(top)
        if let database = try section(top, "database") { config.database = try readDatabase(database) }
        config.notifications = try readNotifications(top)
        return config
    }

    // MARK: Sections

    private mutating func readLog(_ log: Section, into result: inout RegistryConfiguration.Log) throws(ConfigurationError) {
        warnUnknown(log, known: ["level", "formatter", "fields", "accesslog"], ignored: ["hooks", "reportcaller"])
        if let level = try string(log, "level") {
            guard let parsed = Self.logLevel(level) else {
                throw error(log.node("level")?.line, log.keyPath("level"), "unknown level \"\(level)\"")
            }
            result.level = parsed
        }
        if let formatter = try string(log, "formatter") {
            switch formatter {
            case "text": result.formatter = .text
            case "json", "logstash": result.formatter = .json
            default: throw error(log.node("formatter")?.line, log.keyPath("formatter"), "expected text or json")
            }
        }
        if let fields = try section(log, "fields") {
            for (key, value) in fields.entries {
                guard case .scalar(let text, _) = value else {
                    throw error(value.line, fields.keyPath(key), "expected a scalar value")
                }
                result.fields[key] = text
            }
        }
        if let accessLog = try section(log, "accesslog") {
            warnUnknown(accessLog, known: ["disabled"])
            result.accessLogDisabled = try bool(accessLog, "disabled") ?? false
        }
    }

    private mutating func readStorage(
        _ storage: Section, into result: inout RegistryConfiguration.Storage
    ) throws(ConfigurationError) {
        warnUnknown(
            storage, known: ["filesystem", "s3", "delete", "maintenance", "cache", "redirect"],
            ignored: [])
        for driver in ["azure", "gcs", "inmemory", "swift", "oss"] where storage.node(driver) != nil {
            throw error(
                storage.node(driver)?.line, storage.keyPath(driver),
                "storage driver \"\(driver)\" is not supported; use storage.filesystem or storage.s3")
        }
        if let s3 = try section(storage, "s3") { result.s3 = try readS3(s3) }
        if let redirect = try section(storage, "redirect") { result.redirectDisabled = try readRedirect(redirect) }
        if let filesystem = try section(storage, "filesystem") {
            warnUnknown(filesystem, known: ["rootdirectory", "maxthreads"])
            if let root = try string(filesystem, "rootdirectory") {
                guard !root.isEmpty else {
                    throw error(filesystem.node("rootdirectory")?.line, filesystem.keyPath("rootdirectory"), "must not be empty")
                }
                result.rootDirectory = resolve(root)
            }
        }
        if let delete = try section(storage, "delete") {
            warnUnknown(delete, known: ["enabled"])
            result.deleteEnabled = try bool(delete, "enabled") ?? false
        }
        if let maintenance = try section(storage, "maintenance") {
            warnUnknown(maintenance, known: ["uploadpurging", "readonly"])
            if let purging = try section(maintenance, "uploadpurging") {
                warnUnknown(purging, known: ["enabled", "age", "interval", "dryrun"])
                if let enabled = try bool(purging, "enabled") { result.uploadPurging.enabled = enabled }
                if let age = try duration(purging, "age") { result.uploadPurging.age = age }
                if let interval = try duration(purging, "interval") { result.uploadPurging.interval = interval }
                if let dryRun = try bool(purging, "dryrun") { result.uploadPurging.dryRun = dryRun }
            }
            if let readOnly = try section(maintenance, "readonly") {
                warnUnknown(readOnly, known: ["enabled"])
                result.readOnly = try bool(readOnly, "enabled") ?? false
            }
        }
    }

    private mutating func readHTTP(_ http: Section, into result: inout RegistryConfiguration.HTTP) throws(ConfigurationError) {
        warnUnknown(
            http,
            known: ["addr", "net", "prefix", "host", "secret", "headers", "tls", "draintimeout", "relativeurls", "debug"],
            ignored: ["http2", "h2c"])
        if let addr = try string(http, "addr") {
            guard let (host, port) = Self.splitAddress(addr) else {
                throw error(http.node("addr")?.line, http.keyPath("addr"), "expected host:port or :port, got \"\(addr)\"")
            }
            result.host = host
            result.port = port
        }
        if let net = try string(http, "net"), net != "tcp" {
            throw error(http.node("net")?.line, http.keyPath("net"), "only tcp is supported")
        }
        if let prefix = try string(http, "prefix") {
            guard prefix.hasPrefix("/"), !prefix.contains("?"), !prefix.contains("#") else {
                throw error(http.node("prefix")?.line, http.keyPath("prefix"), "expected a path starting with /")
            }
            result.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
        }
        if let host = try string(http, "host"), !host.isEmpty {
            guard let url = Self.externalURL(host) else {
                throw error(
                    http.node("host")?.line, http.keyPath("host"),
                    "expected an absolute http or https URL such as https://registry.example:5000, got \"\(host)\"")
            }
            result.externalURL = url
        }
        result.relativeURLs = try bool(http, "relativeurls")
        if result.relativeURLs == false, result.externalURL == nil {
            note(http, "relativeurls", "is false, but Berth sends relative Location URLs unless http.host is set")
        }
        result.secret = try string(http, "secret")
        if result.secret != nil {
            note(http, "secret", "has no effect on uploads (Berth keeps their state on the server); it signs the web UI's session cookies")
        }
        if let drain = try duration(http, "draintimeout") { result.drainTimeout = drain }
        if let debug = try section(http, "debug") { result.debug = try readDebug(debug) }
        if let headers = try section(http, "headers") {
            result.headers = try headers.entries.map { (key, value) throws(ConfigurationError) in
                RegistryConfiguration.Header(name: key, values: try strings(value, headers.keyPath(key)))
            }
        }
        if let tls = try section(http, "tls") {
            warnUnknown(tls, known: ["certificate", "key", "clientcas", "minimumtls", "ciphersuites"], ignored: ["letsencrypt"])
            let certificate = try string(tls, "certificate")
            let key = try string(tls, "key")
            if let certificate, let key {
                var settings = RegistryConfiguration.TLS(certificate: resolve(certificate), key: resolve(key))
                if let cas = tls.node("clientcas") {
                    settings.clientCAs = try strings(cas, tls.keyPath("clientcas")).map(resolve)
                }
                if let minimum = try string(tls, "minimumtls") {
                    guard let version = RegistryConfiguration.TLSVersion(rawValue: minimum) else {
                        throw error(tls.node("minimumtls")?.line, tls.keyPath("minimumtls"), "expected tls1.2 or tls1.3")
                    }
                    settings.minimumTLS = version
                }
                if let suites = try readCipherSuites(tls, minimum: settings.minimumTLS) { settings.cipherSuites = suites }
                result.tls = settings
            } else if certificate != nil || key != nil {
                throw error(tls.line, tls.path, "both certificate and key are needed")
            }
        }
    }

    private mutating func readDebug(_ debug: Section) throws(ConfigurationError) -> RegistryConfiguration.Debug? {
        warnUnknown(debug, known: ["addr", "prometheus"])
        guard let addr = try string(debug, "addr") else { return nil }
        guard let (host, port) = Self.splitAddress(addr) else {
            throw error(debug.node("addr")?.line, debug.keyPath("addr"), "expected host:port or :port, got \"\(addr)\"")
        }
        var result = RegistryConfiguration.Debug(host: host, port: port)
        if let prometheus = try section(debug, "prometheus") {
            warnUnknown(prometheus, known: ["enabled", "path"])
            result.prometheusEnabled = try bool(prometheus, "enabled") ?? false
            if let path = try string(prometheus, "path") {
                guard path.hasPrefix("/") else {
                    throw error(prometheus.node("path")?.line, prometheus.keyPath("path"), "expected a path starting with /")
                }
                result.prometheusPath = path
            }
        }
        return result
    }

    private mutating func readHealth(_ health: Section, into result: inout RegistryConfiguration.Health) throws(ConfigurationError) {
        warnUnknown(health, known: ["storagedriver"], ignored: ["file", "http", "tcp"])
        if let driver = try section(health, "storagedriver") {
            warnUnknown(driver, known: ["enabled", "interval", "threshold"])
            if let enabled = try bool(driver, "enabled") { result.storageDriver.enabled = enabled }
            if let interval = try duration(driver, "interval") { result.storageDriver.interval = interval }
            if let threshold = try int(driver, "threshold") { result.storageDriver.threshold = max(1, threshold) }
        }
    }

    private mutating func readAuth(_ auth: Section, into result: inout RegistryConfiguration.Auth) throws(ConfigurationError) {
        warnUnknown(auth, known: ["htpasswd", "token"], ignored: ["silly"])
        if let htpasswd = try section(auth, "htpasswd") {
            warnUnknown(htpasswd, known: ["realm", "path"])
            guard let path = try string(htpasswd, "path") else {
                throw error(htpasswd.line, htpasswd.keyPath("path"), "missing")
            }
            result.htpasswd = .init(realm: try string(htpasswd, "realm") ?? "Registry Realm", path: resolve(path))
        }
        if let token = try section(auth, "token") { result.token = try readToken(token) }
        if result.htpasswd != nil, result.token != nil {
            throw error(auth.line, auth.path, "configure either htpasswd or token, not both")
        }
    }

    private mutating func readBerth(_ berth: Section, into result: inout RegistryConfiguration.Berth) throws(ConfigurationError) {
        warnUnknown(berth, known: ["mount", "manifests", "access", "limits", "tls", "audit", "ui", "mirrors", "retention"])
        if let mount = try section(berth, "mount") {
            warnUnknown(mount, known: ["anywhere"])
            if let anywhere = try bool(mount, "anywhere") { result.mountAnywhere = anywhere }
        }
        if let manifests = try section(berth, "manifests") {
            warnUnknown(manifests, known: ["allownondistributable"])
            if let allow = try bool(manifests, "allownondistributable") { result.allowNonDistributable = allow }
        }
        if let access = try section(berth, "access") { result.access = try readAccess(access) }
        if let limits = try section(berth, "limits") { try readLimits(limits, into: &result.limits) }
        if let tls = try section(berth, "tls") { result.hsts = try readStrictTransportSecurity(tls) }
        if let audit = try section(berth, "audit") { result.audit = try readAudit(audit) }
        if let ui = try section(berth, "ui") { try readUI(ui, into: &result.ui) }
        if let retention = try section(berth, "retention") { result.retention = try readRetention(retention) }
    }

    private mutating func readLimits(
        _ limits: Section, into result: inout RegistryConfiguration.Limits
    ) throws(ConfigurationError) {
        warnUnknown(
            limits, known: Self.hardeningKeys.union(["manifestsize", "concurrentuploads", "ratelimit", "readtimeout", "idletimeout"]))
        try readHardening(limits, into: &result)
        if let size = try int(limits, "manifestsize") {
            guard size >= 1024 else {
                throw error(limits.node("manifestsize")?.line, limits.keyPath("manifestsize"), "must be at least 1024 bytes")
            }
            result.manifestSize = size
        }
        if let uploads = try int(limits, "concurrentuploads") { result.concurrentUploads = max(0, uploads) }
        for (key, path) in [("readtimeout", \RegistryConfiguration.Limits.readTimeout), ("idletimeout", \.idleTimeout)] {
            guard let value = try duration(limits, key) else { continue }
            guard value > .zero else { throw error(limits.node(key)?.line, limits.keyPath(key), "must be longer than 0s") }
            result[keyPath: path] = value
        }
        if let rate = try section(limits, "ratelimit") {
            warnUnknown(rate, known: ["requestspersecond", "burst"])
            let perSecond = try string(rate, "requestspersecond").map { text throws(ConfigurationError) in
                guard let value = Double(text), value > 0, value.isFinite else {
                    throw error(
                        rate.node("requestspersecond")?.line, rate.keyPath("requestspersecond"),
                        "expected a positive number, got \"\(text)\"")
                }
                return value
            }
            if let perSecond {
                let burst = try int(rate, "burst") ?? Int(perSecond.rounded(.up))
                guard burst >= 1 else { throw error(rate.node("burst")?.line, rate.keyPath("burst"), "must be at least 1") }
                result.rateLimit = .init(requestsPerSecond: perSecond, burst: burst)
            }
        }
    }

    // MARK: Values

    func section(_ parent: Section, _ key: String) throws(ConfigurationError) -> Section? {
        guard let node = parent.node(key), !node.isNull else { return nil }
        guard case .mapping(let entries, let line) = node else {
            throw error(node.line, parent.keyPath(key), "expected a mapping")
        }
        return Section(path: parent.keyPath(key), entries: entries, line: line)
    }

    func string(_ parent: Section, _ key: String) throws(ConfigurationError) -> String? {
        guard let node = parent.node(key), !node.isNull else { return nil }
        guard case .scalar(let text, _) = node else {
            throw error(node.line, parent.keyPath(key), "expected a string")
        }
        return text
    }

    func bool(_ parent: Section, _ key: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(parent, key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(parent.node(key)?.line, parent.keyPath(key), "expected true or false, got \"\(text)\"")
        }
    }

    func int(_ parent: Section, _ key: String) throws(ConfigurationError) -> Int? {
        guard let text = try string(parent, key) else { return nil }
        guard let value = Int(text) else {
            throw error(parent.node(key)?.line, parent.keyPath(key), "expected an integer, got \"\(text)\"")
        }
        return value
    }

    func duration(_ parent: Section, _ key: String) throws(ConfigurationError) -> Duration? {
        guard let text = try string(parent, key) else { return nil }
        guard let value = GoDuration.parse(text) else {
            throw error(parent.node(key)?.line, parent.keyPath(key), "expected a duration such as 10s or 1h, got \"\(text)\"")
        }
        return value
    }

    func strings(_ node: ConfigNode, _ keyPath: String) throws(ConfigurationError) -> [String] {
        switch node {
        case .scalar(let text, _): return [text]
        case .sequence(let items, _):
            return try items.map { item throws(ConfigurationError) in
                guard case .scalar(let text, _) = item else { throw error(item.line, keyPath, "expected a list of strings") }
                return text
            }
        case .mapping: throw error(node.line, keyPath, "expected a string or a list of strings")
        }
    }

    /// A warning about a known key whose value has no effect here.
    mutating func note(_ section: Section, _ key: String, _ message: String) {
        let location = section.node(key)?.line.map { "\(file):\($0)" } ?? file
        warnings.append("\(location): \(section.keyPath(key)) \(message)")
    }

    mutating func warnUnknown(_ section: Section, known: Set<String>, ignored: Set<String> = []) {
        for (key, value) in section.entries {
            let lower = key.lowercased()
            if known.contains(lower) { continue }
            let location = value.line.map { "\(file):\($0)" } ?? file
            if ignored.contains(lower) {
                warnings.append("\(location): \(section.keyPath(key)) is not supported by this registry and is ignored")
            } else {
                warnings.append("\(location): unknown configuration key \(section.keyPath(key)) is ignored")
            }
        }
    }

    func error(_ line: Int?, _ key: String?, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, key: key, message: message)
    }

    func resolve(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let base = baseDirectory.hasSuffix("/") ? String(baseDirectory.dropLast()) : baseDirectory
        var cleaned = path
        while cleaned.hasPrefix("./") { cleaned.removeFirst(2) }
        return cleaned.isEmpty || cleaned == "." ? base : "\(base)/\(cleaned)"
    }

    /// `log.level` names, the reference registry's aliases included.
    static func logLevel(_ name: String) -> RegistryConfiguration.LogLevel? {
        switch name.lowercased() {
        case "error", "panic", "fatal": .error
        case "warn", "warning": .warning
        case "info": .info
        case "debug": .debug
        case "trace": .trace
        default: nil
        }
    }

    /// `http.host`: an absolute http(s) URL, returned without a trailing slash.
    static func externalURL(_ text: String) -> String? {
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return nil }
        let afterScheme = text.drop(while: { $0 != ":" }).dropFirst(3)
        guard !afterScheme.isEmpty, !afterScheme.hasPrefix("/"), !text.contains("?"), !text.contains("#") else {
            return nil
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// `:5000`, `host:5000`, `[::1]:5000`.
    static func splitAddress(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
