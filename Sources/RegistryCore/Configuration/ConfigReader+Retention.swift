/// `berth.retention`.
extension ConfigReader {
    /// ```yaml
    /// berth:
    ///   retention:
    ///     enabled: false            # a dry run until switched on
    ///     schedule: 24h             # registryd applies the policies daily
    ///     untaggedgrace: 24h
    ///     policies:
    ///       - repositories: ["ci/*"]
    ///         keeplast: 20
    ///         keeptags: ['v\d+\.\d+\.\d+', latest]
    ///         keeppushedwithin: 168h
    ///         keeppulledwithin: 720h
    /// ```
    mutating func readRetention(_ retention: Section) throws(ConfigurationError) -> RegistryConfiguration.Retention {
        warnUnknown(retention, known: ["enabled", "schedule", "untaggedgrace", "policies"])
        var result = RegistryConfiguration.Retention()
        result.enabled = try bool(retention, "enabled") ?? false
        result.schedule = try duration(retention, "schedule")
        if let grace = try duration(retention, "untaggedgrace") { result.untaggedGrace = grace }
        if let list = retention.node("policies"), !list.isNull {
            guard case .sequence(let items, _) = list else {
                throw error(list.line, retention.keyPath("policies"), "expected a list of policies")
            }
            for (index, item) in items.enumerated() {
                result.policies.append(try readPolicy(item, path: retention.keyPath("policies") + "[\(index)]"))
            }
        }
        return result
    }

    private mutating func readPolicy(_ node: ConfigNode, path: String) throws(ConfigurationError) -> RetentionPolicy {
        guard case .mapping(let entries, let line) = node else {
            throw error(node.line, path, "expected a mapping with repositories and keep rules")
        }
        let entry = Section(path: path, entries: entries, line: line)
        warnUnknown(entry, known: ["repositories", "keeplast", "keeptags", "keeppushedwithin", "keeppulledwithin"])
        guard let repositories = entry.node("repositories") else { throw error(line, entry.keyPath("repositories"), "missing") }
        var policy = RetentionPolicy(repositories: try strings(repositories, entry.keyPath("repositories")))
        if let last = try int(entry, "keeplast") {
            guard last >= 0 else { throw error(entry.node("keeplast")?.line, entry.keyPath("keeplast"), "must not be negative") }
            policy.keepLast = last
        }
        if let patterns = entry.node("keeptags") { policy.keepPatterns = try strings(patterns, entry.keyPath("keeptags")) }
        policy.keepPushedWithin = try duration(entry, "keeppushedwithin")
        policy.keepPulledWithin = try duration(entry, "keeppulledwithin")
        do {
            _ = try RetentionPlan(policy)
        } catch {
            throw self.error(entry.node("keeptags")?.line, entry.keyPath("keeptags"), "not a valid regular expression: \(error)")
        }
        if !policy.hasRules { note(entry, "repositories", "has no keep rule; the policy keeps every tag") }
        return policy
    }
}
