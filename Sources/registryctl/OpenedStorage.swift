import ArgumentParser
import Foundation
import RegistryCommandLine
import RegistryCore
import RegistryStorage

/// The registry's stores, opened from config.yml by the same factory registryd uses.
struct OpenedStorage {
    let configuration: RegistryConfiguration
    let stores: RegistryStores

    /// Exits with status 2 on a configuration error, 1 when the storage cannot be opened.
    static func open(config path: String?) async throws -> OpenedStorage {
        let configuration = try loadConfiguration(path)
        do {
            return OpenedStorage(configuration: configuration, stores: try await RegistryStores.open(configuration))
        } catch {
            Console.error("cannot open storage at \(configuration.storage.rootDirectory): \(error)")
            throw ExitCode.failure
        }
    }
}

extension OpenedStorage {
    /// Reads config.yml as registryd does, printing its warnings; exit status 2 when it is not
    /// valid.
    static func loadConfiguration(_ path: String?) throws -> RegistryConfiguration {
        let loaded: ConfigurationLoader.Result
        do {
            loaded = try ConfigurationFile.load(path: path)
        } catch {
            Console.error("\(error)")
            throw ExitCode(2)
        }
        for warning in loaded.warnings {
            Console.error("warning: \(warning)")
        }
        return loaded.configuration
    }
}

/// Output helpers: results on stdout, diagnostics and progress on stderr.
enum Console {
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("registryctl: \(message)\n".utf8))
    }

    /// A progress line, only when stderr is a terminal.
    static func progress(_ label: String, _ done: Int, _ total: Int) {
        guard isatty(2) != 0, total > 0 else { return }
        let line = "\r\(label): \(done)/\(total)" + (done == total ? "\n" : "")
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }
}
