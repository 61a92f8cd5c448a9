import Foundation
import RegistryCore

/// Finds and reads config.yml; the parsing itself is pure and lives in RegistryCore.
public enum ConfigurationFile {
    public static func load(path explicit: String?) throws -> ConfigurationLoader.Result {
        let environment = ProcessInfo.processInfo.environment
        let path = explicit ?? environment["REGISTRY_CONFIGURATION_PATH"]
            ?? (FileManager.default.fileExists(atPath: "config.yml") ? "config.yml" : nil)
        let cwd = FileManager.default.currentDirectoryPath
        guard let path else {
            let loader = ConfigurationLoader(file: "(defaults)", baseDirectory: cwd)
            return try loader.load(yaml: "version: 0.1\n", environment: environment)
        }
        let absolute = path.hasPrefix("/") ? path : cwd + "/" + path
        let text: String
        do {
            text = try String(contentsOfFile: absolute, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, line: nil, key: nil, message: "cannot read the file")
        }
        let folder = (absolute as NSString).deletingLastPathComponent
        return try ConfigurationLoader(file: path, baseDirectory: folder).load(yaml: text, environment: environment)
    }
}
