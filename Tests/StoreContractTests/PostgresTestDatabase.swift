import Foundation
import Logging
import PostgresNIO
import RegistryCore
import RegistryStorage

/// A fresh database on the PostgreSQL server that `scripts/postgres-server.sh` starts (its
/// address in `PG_TEST_*`), migrated to the current schema, for one store opened by a test.
///
/// Each open makes its own database through an administrative connection to `PG_TEST_DBNAME`,
/// so tests running in parallel never see each other's rows. The server is a throwaway cluster
/// in a temporary folder (removed with it), so the databases are not dropped one by one.
enum PostgresTestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String { "PG_TEST_REQUIRED=1 but PG_TEST_HOST is not set: start scripts/postgres-server.sh" }
    }

    static var isConfigured: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["PG_TEST_HOST"] != nil || environment["PG_TEST_REQUIRED"] == "1"
    }

    /// `database:` settings of the server itself (the administrative database).
    static func serverSettings() throws -> RegistryConfiguration.Database {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["PG_TEST_HOST"] else { throw NotConfigured() }
        var settings = RegistryConfiguration.Database()
        settings.enabled = true
        settings.host = host
        settings.port = Int(environment["PG_TEST_PORT"] ?? "") ?? 5432
        settings.user = environment["PG_TEST_USER"] ?? "berth"
        settings.password = environment["PG_TEST_PASSWORD"] ?? ""
        settings.dbname = environment["PG_TEST_DBNAME"] ?? "berth"
        settings.sslMode = .disable
        // Generous: the suite opens a store per test case, all at once, on a shared machine.
        settings.connectTimeout = .seconds(30)
        settings.pool.maxOpen = 4
        settings.pool.maxIdle = 0
        settings.pool.maxLifetime = .seconds(5)
        return settings
    }

    /// Creates an empty database, applies the migrations, and returns settings that name it.
    static func create(migrated: Bool = true) async throws -> RegistryConfiguration.Database {
        var settings = try serverSettings()
        let name = "contract_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await administer(settings) { client in
            // The name is made here of [a-z0-9_]: safe to splice (identifiers cannot be bound).
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        }
        settings.dbname = name
        if migrated { _ = try await PostgresMetadataStore.migrateUp(settings) }
        return settings
    }

    /// Runs `body` with a client on the administrative database.
    static func administer(
        _ settings: RegistryConfiguration.Database, _ body: @Sendable (PostgresClient) async throws -> Void
    ) async throws {
        let client = PostgresClient(
            configuration: .init(
                host: settings.host, port: settings.port, username: settings.user, password: settings.password,
                database: settings.dbname, tls: .disable),
            backgroundLogger: Logger(label: "contract-tests"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}
