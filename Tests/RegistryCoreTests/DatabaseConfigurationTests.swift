import Testing

@testable import RegistryCore

/// `database:` with GitLab's container registry's keys, and `REGISTRY_DATABASE_*` overrides.
@Suite struct DatabaseConfigurationTests {
    func load(_ yaml: String, _ environment: [String: String] = [:]) throws(ConfigurationError) -> ConfigurationLoader.Result {
        try ConfigurationLoader(file: "config.yml", baseDirectory: "/etc/registry").load(yaml: yaml, environment: environment)
    }

    @Test func readsEveryKey() throws {
        let result = try load(
            """
            database:
              enabled: true
              host: db.internal
              port: 6432
              user: registry
              password: hunter2
              dbname: registry_prod
              sslmode: verify-full
              sslcert: certs/client.pem
              sslkey: certs/client.key
              sslrootcert: /etc/ssl/db-ca.pem
              connecttimeout: 5s
              pool:
                maxopen: 40
                maxidle: 10
                maxlifetime: 5m
            """)
        let database = result.configuration.database
        #expect(database.enabled)
        #expect(database.host == "db.internal")
        #expect(database.port == 6432)
        #expect(database.user == "registry")
        #expect(database.password == "hunter2")
        #expect(database.dbname == "registry_prod")
        #expect(database.sslMode == .verifyFull)
        #expect(database.sslCert == "/etc/registry/certs/client.pem")
        #expect(database.sslKey == "/etc/registry/certs/client.key")
        #expect(database.sslRootCert == "/etc/ssl/db-ca.pem")
        #expect(database.connectTimeout == .seconds(5))
        #expect(database.pool.maxOpen == 40)
        #expect(database.pool.maxIdle == 10)
        #expect(database.pool.maxLifetime == .seconds(300))
        #expect(result.warnings.isEmpty)
    }

    @Test func offByDefaultWithLibpqDefaults() throws {
        let database = try load("version: 0.1\n").configuration.database
        #expect(!database.enabled)
        #expect(database.port == 5432)
        #expect(database.sslMode == .prefer)
        #expect(database.pool.maxOpen == 25)
    }

    @Test func environmentOverridesKeys() throws {
        let result = try load(
            "database:\n  enabled: true\n  user: registry\n  dbname: registry\n  password: fromfile\n",
            [
                "REGISTRY_DATABASE_PASSWORD": "fromenv", "REGISTRY_DATABASE_HOST": "10.0.0.5",
                "REGISTRY_DATABASE_POOL_MAXOPEN": "7", "REGISTRY_DATABASE_SSLMODE": "disable",
            ])
        #expect(result.configuration.database.password == "fromenv")
        #expect(result.configuration.database.host == "10.0.0.5")
        #expect(result.configuration.database.pool.maxOpen == 7)
        #expect(result.configuration.database.pool.maxIdle == 5)
        #expect(result.configuration.database.sslMode == .disable)
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let database = try load(
            "database:\n  enabled: true\n  user: registry\n  dbname: registry\n  password: s3cr3t-pa55\n"
        ).configuration.database
        #expect(!database.description.contains("s3cr3t-pa55"))
        #expect(!String(reflecting: database).contains("s3cr3t-pa55"))
        #expect(!"\(database)".contains("s3cr3t-pa55"))
    }

    @Test func badValuesNameTheirKey() {
        for (yaml, key) in [
            ("database:\n  enabled: true\n  user: u\n  dbname: d\n  sslmode: maybe\n", "database.sslmode"),
            ("database:\n  enabled: true\n  user: u\n  dbname: d\n  port: 70000\n", "database.port"),
            ("database:\n  enabled: true\n  dbname: d\n", "database.user"),
            ("database:\n  enabled: true\n  user: u\n", "database.dbname"),
            ("database:\n  enabled: true\n  user: u\n  dbname: d\n  sslcert: /c.pem\n", "database.sslkey"),
            ("database:\n  enabled: true\n  user: u\n  dbname: d\n  pool:\n    maxopen: -1\n", "database.pool.maxopen"),
            ("database:\n  enabled: true\n  user: u\n  dbname: d\n  connecttimeout: soon\n", "database.connecttimeout"),
        ] {
            do {
                _ = try load(yaml)
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.key == key, "\(yaml)")
            }
        }
    }

    @Test func unknownKeysWarnAndGitLabOnlyKeysAreIgnored() throws {
        let result = try load("database:\n  enabled: false\n  preparedstatements: true\n  colour: blue\n")
        #expect(result.warnings.count == 2)
        #expect(result.warnings.contains { $0.contains("database.preparedstatements is not supported") })
        #expect(result.warnings.contains { $0.contains("unknown configuration key database.colour") })
    }
}
