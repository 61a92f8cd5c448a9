import HTTPTypes
import Hummingbird
import RegistryCore

/// What an endpoint requires of the caller, declared with the endpoint itself.
enum EndpointAccess: Sendable, Equatable {
    /// Valid credentials, and nothing more (the base endpoint `/v2/`).
    case authenticated
    /// `registry:catalog:*`.
    case catalog
    /// These actions on the repository the route names.
    case repository([RegistryAction])
    /// These actions on the repository, and `pull` on the source of a cross-repository mount.
    case repositoryAndMountSource([RegistryAction])
}

/// One operation of the Distribution API: a route kind, the methods it answers, the access it
/// needs and its handler. ``table`` lists them all; adding an endpoint is adding a row, and a
/// row cannot be written without its access.
struct APIEndpoint: Sendable {
    typealias Handler = @Sendable (RegistryAPI, Route, Request, RegistryRequestContext) async throws -> Response

    let kind: Route.Kind
    let methods: [HTTPRequest.Method]
    let access: EndpointAccess
    let handler: Handler

    init(_ kind: Route.Kind, _ methods: [HTTPRequest.Method], access: EndpointAccess, handler: @escaping Handler) {
        self.kind = kind
        self.methods = methods
        self.access = access
        self.handler = handler
    }

    static let table: [APIEndpoint] = [
        .init(.base, [.get, .head], access: .authenticated) { api, _, request, _ in api.base(request) },
        .init(.catalog, [.get], access: .catalog) { api, _, request, _ in try await api.catalog(request) },
        .init(.tags, [.get], access: .repository([.pull])) { api, route, request, _ in
            try await api.tags(try route.repository(), request)
        },
        .init(.manifest, [.get, .head], access: .repository([.pull])) { api, route, request, _ in
            try await api.getManifest(try route.repository(), route.reference, request)
        },
        .init(.manifest, [.put], access: .repository([.pull, .push])) { api, route, request, _ in
            try await api.putManifest(try route.repository(), route.reference, request)
        },
        .init(.manifest, [.delete], access: .repository([.delete])) { api, route, _, _ in
            try await api.deleteManifest(try route.repository(), route.reference)
        },
        .init(.blob, [.get, .head], access: .repository([.pull])) { api, route, request, context in
            try await api.getBlob(try route.repository(), route.reference, request, context: context)
        },
        .init(.blob, [.delete], access: .repository([.delete])) { api, route, _, _ in
            try await api.deleteBlob(try route.repository(), route.reference)
        },
        .init(.uploads, [.post], access: .repositoryAndMountSource([.pull, .push])) { api, route, request, _ in
            try await api.startUpload(try route.repository(), request)
        },
        // Even the status of an upload is part of a push.
        .init(.upload, [.get], access: .repository([.pull, .push])) { api, route, _, _ in
            try await api.uploadStatus(try route.repository(), route.reference)
        },
        .init(.upload, [.patch], access: .repository([.pull, .push])) { api, route, request, _ in
            try await api.patchUpload(try route.repository(), route.reference, request)
        },
        .init(.upload, [.put], access: .repository([.pull, .push])) { api, route, request, _ in
            try await api.finishUpload(try route.repository(), route.reference, request)
        },
        .init(.upload, [.delete], access: .repository([.pull, .push])) { api, route, _, _ in
            try await api.cancelUpload(try route.repository(), route.reference)
        },
        .init(.referrers, [.get, .head], access: .repository([.pull])) { api, route, request, _ in
            try await api.referrers(try route.repository(), route.reference, request)
        },
    ]

    /// The table's rows by route kind, built once (a few rows each: a scan beats hashing methods).
    private static let byKind: [Route.Kind: [APIEndpoint]] = Dictionary(grouping: table, by: \.kind)

    /// The endpoint serving `method` on `route`, or nil when the route does not take that method.
    static func find(_ route: Route, method: HTTPRequest.Method) -> APIEndpoint? {
        byKind[route.kind]?.first { $0.methods.contains(method) }
    }

    /// The scopes a request for `route` needs, in the Docker token protocol's terms.
    func scopes(for route: Route, mountFrom: String?) -> [AccessScope] {
        switch access {
        case .authenticated:
            return []
        case .catalog:
            return [.catalog]
        case .repository(let actions):
            guard let name = route.repositoryName else { return [] }
            return [AccessScope(repository: name, actions: actions)]
        case .repositoryAndMountSource(let actions):
            guard let name = route.repositoryName else { return [] }
            var scopes = [AccessScope(repository: name, actions: actions)]
            if let from = mountFrom, from != name {
                scopes.append(AccessScope(repository: from, actions: [.pull]))
            }
            return scopes
        }
    }
}

extension Route {
    /// The repository name, validated.
    func repository() throws(RegistryError) -> RepositoryName {
        guard let name = repositoryName else { throw RegistryError(.nameInvalid, "the route names no repository") }
        return try RepositoryName(name)
    }

    /// The last path part: a manifest reference, a digest or an upload id.
    var reference: String {
        switch self {
        case .manifest(_, let reference): reference
        case .blob(_, let digest), .referrers(_, let digest): digest
        case .upload(_, let id): id
        case .base, .catalog, .tags, .uploads: ""
        }
    }
}
