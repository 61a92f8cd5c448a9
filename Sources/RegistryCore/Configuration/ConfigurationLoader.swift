import Yams

/// Reads `config.yml` text and `REGISTRY_*` environment overrides into a ``RegistryConfiguration``.
///
/// This is pure: the caller reads the file and passes its text, its path and the environment.
public struct ConfigurationLoader: Sendable {
    public struct Result: Sendable {
        public var configuration: RegistryConfiguration
        /// Unknown or ignored keys, one line each.
        public var warnings: [String]
    }

    public let file: String
    /// The folder relative storage paths resolve against.
    public let baseDirectory: String

    public init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    public func load(yaml: String, environment: [String: String]) throws(ConfigurationError) -> Result {
        var root = try parse(yaml, origin: file)
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard name.hasPrefix("REGISTRY_"), name != "REGISTRY_CONFIGURATION_PATH" else { continue }
            let path = name.dropFirst("REGISTRY_".count).lowercased().split(separator: "_").map(String.init)
            guard !path.isEmpty else { continue }
            let node = (try? parse(value, origin: name)) ?? .scalar(value, line: nil)
            root.set(node.isNull ? .scalar(value, line: nil) : node, at: path[...])
        }
        var reader = ConfigReader(file: file, baseDirectory: baseDirectory)
        let configuration = try reader.read(root)
        return Result(configuration: configuration, warnings: reader.warnings)
    }

    private func parse(_ text: String, origin: String) throws(ConfigurationError) -> ConfigNode {
        do {
            guard let node = try Yams.compose(yaml: text) else { return .mapping([], line: nil) }
            return ConfigNode(node)
        } catch let error as YamlError {
            throw Self.describe(error, file: origin)
        } catch {
            throw ConfigurationError(file: origin, line: nil, key: nil, message: "\(error)")
        }
    }

    private static func describe(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return ConfigurationError(file: file, line: mark.line, key: nil, message: "invalid YAML: \(problem)")
        default:
            let firstLine = "\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
            return ConfigurationError(file: file, line: nil, key: nil, message: "invalid YAML: \(firstLine)")
        }
    }
}
