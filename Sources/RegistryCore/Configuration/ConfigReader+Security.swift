/// `auth.token` and `berth.access`.
extension ConfigReader {
    mutating func readToken(_ token: Section) throws(ConfigurationError) -> RegistryConfiguration.Token {
        warnUnknown(token, known: ["realm", "service", "issuer", "rootcertbundle"], ignored: ["autoredirect", "jwks"])
        func required(_ key: String) throws(ConfigurationError) -> String {
            guard let value = try string(token, key), !value.isEmpty else {
                throw error(token.line, token.keyPath(key), "missing")
            }
            return value
        }
        return RegistryConfiguration.Token(
            realm: try required("realm"), service: try required("service"), issuer: try required("issuer"),
            rootCertBundle: resolve(try required("rootcertbundle")))
    }

    /// ```yaml
    /// berth:
    ///   access:
    ///     anonymous: pull
    ///     groups: {devs: [alice, bob]}
    ///     rules:
    ///       - {repository: "team/*", groups: [devs], actions: [pull, push]}
    /// ```
    mutating func readAccess(_ access: Section) throws(ConfigurationError) -> AccessPolicy {
        warnUnknown(access, known: ["anonymous", "groups", "rules"])
        var policy = AccessPolicy()
        if let anonymous = try string(access, "anonymous") {
            switch anonymous.lowercased() {
            case "pull": policy.anonymousPull = true
            case "none", "false", "no", "off": policy.anonymousPull = false
            default: throw error(access.node("anonymous")?.line, access.keyPath("anonymous"), "expected pull or none")
            }
        }
        if let groups = try section(access, "groups") {
            for (name, members) in groups.entries {
                policy.groups[name] = try strings(members, groups.keyPath(name))
            }
        }
        if let rules = access.node("rules"), !rules.isNull {
            guard case .sequence(let items, _) = rules else {
                throw error(rules.line, access.keyPath("rules"), "expected a list of rules")
            }
            policy.rules = try items.enumerated().map { (index, item) throws(ConfigurationError) in
                try readRule(item, path: access.keyPath("rules") + "[\(index)]", groups: policy.groups)
            }
        }
        return policy
    }

    private mutating func readRule(
        _ node: ConfigNode, path: String, groups: [String: [String]]
    ) throws(ConfigurationError) -> AccessPolicy.Rule {
        guard case .mapping(let entries, let line) = node else {
            throw error(node.line, path, "expected a mapping with repository, users or groups, and actions")
        }
        let rule = Section(path: path, entries: entries, line: line)
        warnUnknown(rule, known: ["repository", "users", "groups", "actions"])
        guard let repository = try string(rule, "repository"), !repository.isEmpty else {
            throw error(line, rule.keyPath("repository"), "missing")
        }
        let users = try rule.node("users").map { node throws(ConfigurationError) in try strings(node, rule.keyPath("users")) } ?? []
        let ruleGroups = try rule.node("groups").map { node throws(ConfigurationError) in try strings(node, rule.keyPath("groups")) } ?? []
        for group in ruleGroups where groups[group] == nil {
            throw error(rule.node("groups")?.line, rule.keyPath("groups"), "unknown group \"\(group)\"")
        }
        guard !users.isEmpty || !ruleGroups.isEmpty else {
            throw error(line, path, "a rule needs users or groups")
        }
        guard let actionsNode = rule.node("actions") else { throw error(line, rule.keyPath("actions"), "missing") }
        var actions = Set<RegistryAction>()
        for name in try strings(actionsNode, rule.keyPath("actions")) {
            guard let action = RegistryAction(rawValue: name.lowercased()) else {
                throw error(actionsNode.line, rule.keyPath("actions"), "expected pull, push or delete, got \"\(name)\"")
            }
            actions.insert(action)
        }
        return AccessPolicy.Rule(repository: repository, users: users, groups: ruleGroups, actions: actions)
    }
}
