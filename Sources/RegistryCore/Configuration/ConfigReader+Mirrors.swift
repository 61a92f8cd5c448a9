import Foundation

/// `proxy:` (Distribution's single-upstream pull-through cache) and `berth.mirrors`.
extension ConfigReader {
    /// Both forms, checked together: `proxy:` turns the whole registry into one mirror, so it
    /// cannot be combined with a list of prefixed mirrors.
    mutating func readMirrors(_ top: Section) throws(ConfigurationError) -> [RegistryConfiguration.Mirror] {
        var mirrors: [RegistryConfiguration.Mirror] = []
        if let proxy = try section(top, "proxy") { mirrors += try readProxy(proxy) }
        if let berth = try section(top, "berth"), let list = berth.node("mirrors"), !list.isNull {
            guard mirrors.isEmpty else {
                throw error(list.line, "berth.mirrors", "cannot be combined with proxy.remoteurl, which mirrors every repository")
            }
            guard case .sequence(let items, _) = list else {
                throw error(list.line, "berth.mirrors", "expected a list of mirrors")
            }
            for (index, item) in items.enumerated() {
                mirrors.append(try readMirror(item, path: "berth.mirrors[\(index)]"))
            }
            try checkPrefixes(mirrors, line: list.line)
        }
        return mirrors
    }

    /// ```yaml
    /// proxy:
    ///   remoteurl: https://registry-1.docker.io
    ///   username: [username]
    ///   password: [password]
    ///   ttl: 168h
    /// ```
    private mutating func readProxy(_ proxy: Section) throws(ConfigurationError) -> [RegistryConfiguration.Mirror] {
        warnUnknown(proxy, known: ["remoteurl", "username", "password", "ttl"], ignored: ["exec"])
        // Distribution ignores a proxy section without remoteurl.
        guard let url = try string(proxy, "remoteurl"), !url.isEmpty else { return [] }
        var mirror = RegistryConfiguration.Mirror(remoteURL: try remoteURL(url, proxy, "remoteurl"))
        mirror.username = try string(proxy, "username")
        mirror.password = try string(proxy, "password")
        if let ttl = try duration(proxy, "ttl") { mirror.expiry = ttl }
        return [mirror]
    }

    /// ```yaml
    /// berth:
    ///   mirrors:
    ///     - prefix: docker.io
    ///       url: https://registry-1.docker.io
    ///       default: true          # library/alpine (docker's registry-mirrors) comes from here
    ///       ttl: 5m                # a tag is re-checked upstream after five minutes
    ///       expiry: 720h           # content not pulled for 30 days goes at the next gc
    ///     - prefix: internal
    ///       url: https://registry.internal:5000
    ///       username: mirror
    ///       password: secret
    ///       ca: /etc/berth/internal-ca.pem
    /// ```
    private mutating func readMirror(_ node: ConfigNode, path: String) throws(ConfigurationError)
        -> RegistryConfiguration.Mirror
    {
        guard case .mapping(let entries, let line) = node else {
            throw error(node.line, path, "expected a mapping with prefix and url")
        }
        let entry = Section(path: path, entries: entries, line: line)
        warnUnknown(entry, known: ["prefix", "url", "username", "password", "ca", "insecure", "ttl", "expiry", "default"])
        guard let prefix = try string(entry, "prefix"), !prefix.isEmpty else {
            throw error(line, entry.keyPath("prefix"), "missing")
        }
        let trimmed = prefix.split(separator: "/").joined(separator: "/")
        guard (try? RepositoryName(trimmed)) != nil else {
            throw error(entry.node("prefix")?.line, entry.keyPath("prefix"), "\"\(prefix)\" is not a valid repository name prefix")
        }
        guard let url = try string(entry, "url"), !url.isEmpty else {
            throw error(line, entry.keyPath("url"), "missing")
        }
        var mirror = RegistryConfiguration.Mirror(prefix: trimmed, remoteURL: try remoteURL(url, entry, "url"))
        mirror.username = try string(entry, "username")
        mirror.password = try string(entry, "password")
        if (mirror.username == nil) != (mirror.password == nil) {
            throw error(line, path, "username and password go together")
        }
        mirror.caBundle = try string(entry, "ca").map(resolve)
        mirror.insecure = try bool(entry, "insecure") ?? false
        if let ttl = try duration(entry, "ttl") { mirror.tagTTL = ttl }
        if let expiry = try duration(entry, "expiry") { mirror.expiry = expiry }
        mirror.isDefault = try bool(entry, "default") ?? false
        return mirror
    }

    private func remoteURL(_ text: String, _ section: Section, _ key: String) throws(ConfigurationError) -> String {
        let components = URLComponents(string: text)
        guard let scheme = components?.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components?.host, !host.isEmpty
        else {
            throw error(section.node(key)?.line, section.keyPath(key), "expected an http:// or https:// URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// No prefix may contain another (a name would belong to two upstreams), and at most one
    /// mirror is the default.
    private func checkPrefixes(_ mirrors: [RegistryConfiguration.Mirror], line: Int?) throws(ConfigurationError) {
        for (i, a) in mirrors.enumerated() {
            for b in mirrors[(i + 1)...] where a.prefix == b.prefix || a.prefix.hasPrefix(b.prefix + "/")
                || b.prefix.hasPrefix(a.prefix + "/")
            {
                throw error(line, "berth.mirrors", "prefixes \"\(a.prefix)\" and \"\(b.prefix)\" overlap")
            }
        }
        if mirrors.filter(\.isDefault).count > 1 {
            throw error(line, "berth.mirrors", "only one mirror can be the default")
        }
    }
}
