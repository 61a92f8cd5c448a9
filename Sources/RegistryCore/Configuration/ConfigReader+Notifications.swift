import Foundation

/// `notifications`, as Distribution reads it.
extension ConfigReader {
    /// ```yaml
    /// notifications:
    ///   endpoints:
    ///     - name: alistener
    ///       url: https://hooks.example.com/registry
    ///       headers:
    ///         Authorization: [Bearer <token>]
    ///       timeout: 1s
    ///       threshold: 10
    ///       backoff: 1s
    ///       ignoredmediatypes: [application/octet-stream]
    ///       ignore:
    ///         mediatypes: [application/octet-stream]
    ///         actions: [pull]
    ///       disabled: false
    /// ```
    mutating func readNotifications(_ top: Section) throws(ConfigurationError) -> RegistryConfiguration.Notifications {
        var result = RegistryConfiguration.Notifications()
        guard let notifications = try section(top, "notifications") else { return result }
        warnUnknown(notifications, known: ["endpoints"], ignored: ["events"])
        guard let list = notifications.node("endpoints"), !list.isNull else { return result }
        guard case .sequence(let items, _) = list else {
            throw error(list.line, "notifications.endpoints", "expected a list of endpoints")
        }
        var names: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "notifications.endpoints[\(index)]"
            guard case .mapping(let entries, let line) = item else {
                throw error(item.line, path, "expected a mapping")
            }
            let section = Section(path: path, entries: entries, line: line)
            guard let endpoint = try readEndpoint(section) else { continue }
            guard names.insert(endpoint.name).inserted else {
                throw error(line, section.keyPath("name"), "another endpoint is named \"\(endpoint.name)\"")
            }
            result.endpoints.append(endpoint)
        }
        return result
    }

    /// One endpoint; nil when it is disabled.
    private mutating func readEndpoint(_ section: Section) throws(ConfigurationError) -> RegistryConfiguration.Endpoint? {
        warnUnknown(
            section,
            known: ["name", "url", "headers", "timeout", "threshold", "backoff", "ignoredmediatypes", "ignore", "disabled"])
        if try bool(section, "disabled") == true { return nil }
        guard let name = try string(section, "name"), !name.isEmpty else {
            throw error(section.line, section.keyPath("name"), "missing: every endpoint needs a name")
        }
        guard let url = try string(section, "url"), let parsed = URL(string: url),
            let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https", parsed.host != nil
        else {
            throw error(section.node("url")?.line ?? section.line, section.keyPath("url"), "expected an http or https URL")
        }
        var endpoint = RegistryConfiguration.Endpoint(name: name, url: url)
        if let headers = try self.section(section, "headers") {
            for (key, value) in headers.entries {
                // http.Header: a list of values per name; one string is taken as a list of one.
                for text in try strings(value, headers.keyPath(key)) { endpoint.headers.append((key, text)) }
            }
        }
        if let timeout = try duration(section, "timeout"), timeout > .zero { endpoint.timeout = timeout }
        if let threshold = try int(section, "threshold") {
            guard threshold >= 0 else {
                throw error(section.node("threshold")?.line, section.keyPath("threshold"), "expected 0 or more")
            }
            endpoint.threshold = threshold
        }
        if let backoff = try duration(section, "backoff") { endpoint.backoff = backoff }
        if let types = section.node("ignoredmediatypes"), !types.isNull {
            endpoint.ignoredMediaTypes.formUnion(try strings(types, section.keyPath("ignoredmediatypes")))
        }
        if let ignore = try self.section(section, "ignore") {
            warnUnknown(ignore, known: ["mediatypes", "actions"])
            if let types = ignore.node("mediatypes"), !types.isNull {
                endpoint.ignoredMediaTypes.formUnion(try strings(types, ignore.keyPath("mediatypes")))
            }
            if let actions = ignore.node("actions"), !actions.isNull {
                for action in try strings(actions, ignore.keyPath("actions")) {
                    guard RegistryEvent.Action(rawValue: action.lowercased()) != nil else {
                        throw error(
                            actions.line, ignore.keyPath("actions"),
                            "unknown action \"\(action)\" (expected push, pull, mount or delete)")
                    }
                    endpoint.ignoredActions.insert(action.lowercased())
                }
            }
        }
        return endpoint
    }
}
