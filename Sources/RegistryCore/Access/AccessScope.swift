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

    /// The scopes a request needs: none for the base endpoint `/v2/` (authentication alone),
    /// `registry:catalog:*` for `_catalog`, `pull` to read, `pull,push` to write, `delete`
    /// to delete a manifest or blob, and `pull` on the source of a cross-repository mount.
    public static func required(for route: Route, method: String, mountFrom: String? = nil) -> [AccessScope] {
        guard let name = route.repositoryName else {
            return route == .catalog ? [.catalog] : []
        }
        let reads = method == "GET" || method == "HEAD"
        switch route {
        case .manifest, .blob:
            if reads { return [AccessScope(repository: name, actions: [.pull])] }
            if method == "DELETE" { return [AccessScope(repository: name, actions: [.delete])] }
            return [AccessScope(repository: name, actions: [.pull, .push])]
        case .uploads:
            var scopes = [AccessScope(repository: name, actions: reads ? [.pull] : [.pull, .push])]
            if !reads, let from = mountFrom, from != name {
                scopes.append(AccessScope(repository: from, actions: [.pull]))
            }
            return scopes
        case .upload:
            // Even the status of an upload is part of a push.
            return [AccessScope(repository: name, actions: [.pull, .push])]
        default:
            return [AccessScope(repository: name, actions: [.pull])]
        }
    }
}
