import Logging
import PostgresNIO
import RegistryCore

/// `registryctl database migrate up|status`, and the check registryd makes at start.
extension PostgresMetadataStore {
    /// What the database records in `schema_migrations` against ``PostgresSchema/migrations``.
    func migrationStatus() async throws -> PostgresSchema.Status {
        let applied = try await transaction { connection in
            try await Self.appliedVersions(on: connection, logger: self.logger)
        }
        return PostgresSchema.status(applied: applied)
    }

    /// Applies every pending migration in order, all in one transaction under an advisory lock
    /// (so two nodes migrating at once apply each migration once). Returns those applied.
    /// Refuses a database that records a migration this build does not know.
    func migrateUp() async throws -> [PostgresSchema.Migration] {
        try await transaction(deadline: false) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: self.logger)
            let status = PostgresSchema.status(applied: try await Self.appliedVersions(on: connection, logger: self.logger))
            if !status.unknown.isEmpty, let refusal = PostgresSchema.refusal(status) {
                throw DatabaseStartupFailure(refusal)
            }
            var applied: [PostgresSchema.Migration] = []
            for migration in PostgresSchema.migrations where status.pending.contains(migration.version) {
                // The migration's text is this build's own constant, never input.
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: self.logger)
                applied.append(migration)
            }
            return applied
        }
    }

    static func appliedVersions(on connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        let exists = try await connection.query(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger
        ).collect().first?.decode(Bool.self) ?? false
        guard exists else { return [] }
        return try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger)
            .collect().map { try $0.decode(Int64.self) }
    }

    /// `registryctl database migrate up`: applies pending migrations and returns them.
    public static func migrateUp(_ settings: RegistryConfiguration.Database) async throws -> [PostgresSchema.Migration] {
        let store = try PostgresMetadataStore(settings, logger: nil)
        do {
            let applied = try await store.migrateUp()
            await store.close()
            return applied
        } catch {
            await store.close()
            throw error
        }
    }

    /// `registryctl database migrate status`.
    public static func migrationStatus(_ settings: RegistryConfiguration.Database) async throws -> PostgresSchema.Status {
        let store = try PostgresMetadataStore(settings, logger: nil)
        do {
            let status = try await store.migrationStatus()
            await store.close()
            return status
        } catch {
            await store.close()
            throw error
        }
    }
}
