import ArgumentParser
import Foundation
import RegistryCommandLine
import RegistryCore
import RegistryStorage

/// `registryctl database migrate up|status`: the PostgreSQL schema (`database:` in config.yml).
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "database",
        abstract: "Manage the PostgreSQL metadata database named by database: in config.yml.",
        subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply or list the schema migrations.", subcommands: [Up.self, Status.self])
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply every pending migration, in order, in one transaction.",
            discussion: "Safe to run from several hosts at once: an advisory lock makes one of them apply each migration.")

        @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
        var config: String?

        func run() async throws {
            let settings = try DatabaseCommand.settings(config: config)
            let applied: [PostgresSchema.Migration]
            do {
                applied = try await PostgresMetadataStore.migrateUp(settings)
            } catch {
                Console.error("migrate up: \(error)")
                throw ExitCode.failure
            }
            if applied.isEmpty {
                print("the schema is up to date (\(PostgresSchema.migrations.count) migrations)")
            }
            for migration in applied {
                print("applied \(migration.version) \(migration.name)")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List applied and pending migrations; exit status 1 unless the schema is current.")

        @Option(name: .long, help: "Path of config.yml (default: as registryd finds it).")
        var config: String?

        func run() async throws {
            let settings = try DatabaseCommand.settings(config: config)
            let status: PostgresSchema.Status
            do {
                status = try await PostgresMetadataStore.migrationStatus(settings)
            } catch {
                Console.error("migrate status: \(error)")
                throw ExitCode.failure
            }
            for migration in PostgresSchema.migrations {
                let state = status.applied.contains(migration.version) ? "applied" : "pending"
                print("\(migration.version) \(migration.name): \(state)")
            }
            for version in status.unknown {
                print("\(version) (unknown to this registryctl): applied")
            }
            if !status.isCurrent { throw ExitCode.failure }
        }
    }

    /// `database:` of the configuration; exit status 2 when it is not enabled or not valid.
    static func settings(config path: String?) throws -> RegistryConfiguration.Database {
        let configuration = try OpenedStorage.loadConfiguration(path)
        guard configuration.database.enabled else {
            Console.error("database.enabled is not true in the configuration: nothing to migrate (SQLite migrates itself)")
            throw ExitCode(2)
        }
        return configuration.database
    }
}
