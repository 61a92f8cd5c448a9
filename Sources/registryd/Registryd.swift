import ArgumentParser
import Foundation
import Logging
import RegistryCommandLine
import RegistryCore
import RegistryHTTP
import RegistryStorage

@main
struct Registryd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registryd",
        abstract: "Berth: a private container image registry (Docker Registry API v2, OCI Distribution v1.1).",
        discussion: """
            Reads the reference registry's config.yml format. Without --config it reads \
            $REGISTRY_CONFIGURATION_PATH, else ./config.yml when present, else built-in defaults. \
            REGISTRY_<SECTION>_<KEY> environment variables override the file (REGISTRY_HTTP_ADDR, \
            REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY, ...). Exit status 2 means a configuration error.
            """,
        version: RegistryServer.version)

    @Option(name: .long, help: "Path of config.yml.")
    var config: String?

    func run() async throws {
        AllocatorSetup.tune()
        // Once now, so that the peak while starting stays low, and once when started.
        CodePages.releaseMapped()
        let release = Task {
            try await Task.sleep(for: CodePages.afterStartup)
            CodePages.releaseMapped()
        }
        defer { release.cancel() }
        let loaded: ConfigurationLoader.Result
        do {
            loaded = try ConfigurationFile.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("registryd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let configuration = loaded.configuration
        let logger = LogSetup.bootstrap(configuration.log)
        for warning in loaded.warnings {
            logger.warning("\(warning)")
        }
        do {
            try await RegistryServer(configuration: configuration, logger: logger).run()
        } catch let error as InvalidSetting {
            logger.critical("\(error)")
            throw ExitCode(2)
        } catch let error as DatabaseStartupFailure {
            // Unreachable database, or a schema this build does not serve: one line, status 2.
            logger.critical("\(error)")
            throw ExitCode(2)
        } catch let error as S3StartupFailure {
            // A missing bucket or refused credentials: one line naming the key id, status 2.
            logger.critical("\(error)")
            throw ExitCode(2)
        }
    }
}
