/// `berth.ui`.
extension ConfigReader {
    /// ```yaml
    /// berth:
    ///   ui:
    ///     enabled: true
    ///     sessionlifetime: 12h
    /// ```
    mutating func readUI(_ ui: Section, into result: inout RegistryConfiguration.UI) throws(ConfigurationError) {
        warnUnknown(ui, known: ["enabled", "sessionlifetime"])
        if let enabled = try bool(ui, "enabled") { result.enabled = enabled }
        if let lifetime = try duration(ui, "sessionlifetime") {
            guard lifetime > .zero else {
                throw error(ui.node("sessionlifetime")?.line, ui.keyPath("sessionlifetime"), "must be longer than 0s")
            }
            result.sessionLifetime = lifetime
        }
    }
}
