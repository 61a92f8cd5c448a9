import Yams

/// A parsed YAML document, kept with line numbers so that errors can name them.
indirect enum ConfigNode: Sendable {
    case scalar(String, line: Int?)
    case mapping([(key: String, value: ConfigNode)], line: Int?)
    case sequence([ConfigNode], line: Int?)

    init(_ node: Node) {
        switch node {
        case .scalar(let scalar):
            self = .scalar(scalar.string, line: scalar.mark?.line)
        case .mapping(let mapping):
            self = .mapping(
                mapping.map { (key: $0.key.string ?? "", value: ConfigNode($0.value)) }, line: mapping.mark?.line)
        case .sequence(let sequence):
            self = .sequence(sequence.map(ConfigNode.init), line: sequence.mark?.line)
        }
    }

    var line: Int? {
        switch self {
        case .scalar(_, let line), .mapping(_, let line), .sequence(_, let line): line
        }
    }

    var isNull: Bool {
        if case .scalar(let text, _) = self { return text.isEmpty || text == "~" || text == "null" }
        return false
    }

    /// Sets the value at a key path (matched case-insensitively), creating mappings on the way.
    mutating func set(_ value: ConfigNode, at path: ArraySlice<String>) {
        guard let key = path.first else {
            self = value
            return
        }
        var entries: [(key: String, value: ConfigNode)]
        let line = self.line
        if case .mapping(let existing, _) = self { entries = existing } else { entries = [] }
        if let index = entries.firstIndex(where: { $0.key.lowercased() == key }) {
            entries[index].value.set(value, at: path.dropFirst())
        } else {
            var child = ConfigNode.mapping([], line: nil)
            child.set(value, at: path.dropFirst())
            entries.append((key: key, value: child))
        }
        self = .mapping(entries, line: line)
    }
}
