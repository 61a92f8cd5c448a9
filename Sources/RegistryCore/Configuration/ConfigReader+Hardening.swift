/// `berth.limits` keys against password guessing and slow or greedy clients.
extension ConfigReader {
    static let hardeningKeys: Set<String> = ["authfailures", "minbodyrate", "minbodyrateperiod", "connectionsperclient"]

    /// ```yaml
    /// berth:
    ///   limits:
    ///     authfailures: 10          # failed logins a minute per address; 0 = off
    ///     minbodyrate: 1024         # bytes per second, averaged over minbodyrateperiod; 0 = off
    ///     minbodyrateperiod: 30s
    ///     connectionsperclient: 128 # 0 = off
    /// ```
    mutating func readHardening(
        _ limits: Section, into result: inout RegistryConfiguration.Limits
    ) throws(ConfigurationError) {
        for (key, path) in [
            ("authfailures", \RegistryConfiguration.Limits.authFailures), ("minbodyrate", \.minBodyRate),
            ("connectionsperclient", \.connectionsPerClient),
        ] {
            guard let value = try int(limits, key) else { continue }
            guard value >= 0 else { throw error(limits.node(key)?.line, limits.keyPath(key), "must be 0 (off) or more") }
            result[keyPath: path] = value
        }
        if let period = try duration(limits, "minbodyrateperiod") {
            guard period >= .seconds(1) else {
                throw error(limits.node("minbodyrateperiod")?.line, limits.keyPath("minbodyrateperiod"), "must be at least 1s")
            }
            result.minBodyRatePeriod = period
        }
    }
}
