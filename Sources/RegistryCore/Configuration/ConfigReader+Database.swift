/// `database`: the PostgreSQL metadata store, with the keys of GitLab's container registry.
extension ConfigReader {
    /// ```yaml
    /// database:
    ///   enabled: true
    ///   host: db.internal
    ///   port: 5432
    ///   user: registry
    ///   password: secret        # or REGISTRY_DATABASE_PASSWORD
    ///   dbname: registry
    ///   sslmode: verify-full
    ///   sslrootcert: /etc/registry/db-ca.pem
    ///   connecttimeout: 5s
    ///   pool:
    ///     maxopen: 25
    ///     maxidle: 5
    ///     maxlifetime: 5m
    /// ```
    mutating func readDatabase(_ database: Section) throws(ConfigurationError) -> RegistryConfiguration.Database {
        warnUnknown(
            database,
            known: [
                "enabled", "host", "port", "user", "password", "dbname", "sslmode", "sslcert", "sslkey",
                "sslrootcert", "connecttimeout", "pool",
            ],
            ignored: ["draintimeout", "preparedstatements", "primary", "loadbalancing", "backgroundmigrations"])
        var result = RegistryConfiguration.Database()
        result.enabled = try bool(database, "enabled") ?? false
        if let value = try string(database, "host"), !value.isEmpty { result.host = value }
        if let value = try int(database, "port") {
            guard (1...65535).contains(value) else {
                throw error(database.node("port")?.line, database.keyPath("port"), "must be between 1 and 65535")
            }
            result.port = value
        }
        result.user = try string(database, "user") ?? ""
        result.password = try string(database, "password") ?? ""
        result.dbname = try string(database, "dbname") ?? ""
        if result.enabled {
            if result.user.isEmpty { throw error(database.node("user")?.line ?? database.line, database.keyPath("user"), "missing") }
            if result.dbname.isEmpty {
                throw error(database.node("dbname")?.line ?? database.line, database.keyPath("dbname"), "missing")
            }
        }
        if let text = try string(database, "sslmode") {
            guard let mode = RegistryConfiguration.Database.SSLMode(rawValue: text.lowercased()) else {
                let modes = RegistryConfiguration.Database.SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(database.node("sslmode")?.line, database.keyPath("sslmode"), "expected one of \(modes), got \"\(text)\"")
            }
            result.sslMode = mode
        }
        result.sslCert = try string(database, "sslcert").map(resolve)
        result.sslKey = try string(database, "sslkey").map(resolve)
        result.sslRootCert = try string(database, "sslrootcert").map(resolve)
        if (result.sslCert == nil) != (result.sslKey == nil) {
            let missing = result.sslCert == nil ? "sslcert" : "sslkey"
            throw error(database.line, database.keyPath(missing), "missing: sslcert and sslkey go together")
        }
        if let value = try duration(database, "connecttimeout"), value > .zero { result.connectTimeout = value }
        if let pool = try section(database, "pool") {
            warnUnknown(pool, known: ["maxopen", "maxidle", "maxlifetime"], ignored: ["maxidletime"])
            if let value = try int(pool, "maxopen") {
                guard value >= 0 else { throw error(pool.node("maxopen")?.line, pool.keyPath("maxopen"), "must not be negative") }
                if value > 0 { result.pool.maxOpen = value }
            }
            if let value = try int(pool, "maxidle") {
                guard value >= 0 else { throw error(pool.node("maxidle")?.line, pool.keyPath("maxidle"), "must not be negative") }
                result.pool.maxIdle = value
            }
            if let value = try duration(pool, "maxlifetime"), value > .zero { result.pool.maxLifetime = value }
        }
        result.pool.maxIdle = min(result.pool.maxIdle, result.pool.maxOpen)
        return result
    }
}
