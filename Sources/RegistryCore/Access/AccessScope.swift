/// One resource and the actions a request needs on it, in the Docker token protocol's
/// terms: `repository:team/app:pull,push` or `registry:catalog:*`.
public struct AccessScope: Sendable, Hashable, CustomStringConvertible {
    public enum Resource: Sendable, Hashable {
        case repository(String)
        /// `registry:catalog:*`, the right to list every repository.
        case catalog
    }

    public var resource: Resource
    /// Sorted; empty for the catalog, whose only action is `*`.
    public var actions: [RegistryAction]

    public init(repository: String, actions: [RegistryAction]) {
        resource = .repository(repository)
        self.actions = Array(Set(actions)).sorted()
    }

    public static let catalog = AccessScope(resource: .catalog, actions: [])

    private init(resource: Resource, actions: [RegistryAction]) {
        self.resource = resource
        self.actions = actions
    }

    /// The scope as it appears in a `WWW-Authenticate: Bearer` challenge.
    public var description: String {
        switch resource {
        case .repository(let name): "repository:\(name):\(actions.map(\.rawValue).joined(separator: ","))"
        case .catalog: "registry:catalog:*"
        }
    }
}
