/// Which upstream, if any, a local repository name belongs to, and its name there.
///
/// `proxy.remoteurl` makes one mirror with an empty prefix: every repository is the
/// upstream's, under the same name. `berth.mirrors` gives each upstream a prefix:
/// `docker.io/library/alpine` is `library/alpine` at the `docker.io` mirror's upstream, while
/// names under no prefix stay private. A default mirror also answers unprefixed names that no
/// private repository holds (docker's `registry-mirrors` asks for `library/alpine`); those are
/// cached under the prefixed name, so both spellings share one copy.
public struct MirrorTable: Sendable {
    /// A repository's upstream: the mirror's index in ``mirrors`` and the name to ask for.
    public struct Route: Sendable, Equatable {
        public var mirror: Int
        /// The repository name at the upstream.
        public var remoteName: String
        /// The name under which the content is cached here.
        public var localName: RepositoryName
    }

    public let mirrors: [RegistryConfiguration.Mirror]

    public init(_ mirrors: [RegistryConfiguration.Mirror]) {
        self.mirrors = mirrors
    }

    public var isEmpty: Bool { mirrors.isEmpty }

    /// The route of a name under a mirror's prefix (or of any name in proxy mode); nil for a
    /// private name. Pushes to a name with a route are refused.
    public func route(_ repository: RepositoryName) -> Route? {
        for (index, mirror) in mirrors.enumerated() {
            if mirror.prefix.isEmpty {
                return Route(mirror: index, remoteName: remoteName(repository.value, mirror), localName: repository)
            }
            if repository.value.hasPrefix(mirror.prefix + "/") {
                let rest = String(repository.value.dropFirst(mirror.prefix.count + 1))
                return Route(mirror: index, remoteName: remoteName(rest, mirror), localName: repository)
            }
        }
        return nil
    }

    /// The default mirror's route for a name under no prefix: the name cached under the
    /// default's prefix. The caller uses it only when no private repository has the name.
    public func defaultRoute(_ repository: RepositoryName) -> Route? {
        guard route(repository) == nil, let index = mirrors.firstIndex(where: \.isDefault) else { return nil }
        let mirror = mirrors[index]
        guard let local = try? RepositoryName(mirror.prefix + "/" + repository.value) else { return nil }
        return Route(mirror: index, remoteName: remoteName(repository.value, mirror), localName: local)
    }

    /// Docker Hub keeps its official images under `library/`: `docker.io/alpine` is
    /// `library/alpine` there, as docker itself expands it.
    private func remoteName(_ name: String, _ mirror: RegistryConfiguration.Mirror) -> String {
        guard !name.contains("/"), Self.isDockerHub(mirror.remoteURL) else { return name }
        return "library/" + name
    }

    static func isDockerHub(_ url: String) -> Bool {
        let host = url.lowercased().split(separator: "://", maxSplits: 1).last?.split(separator: "/").first ?? ""
        return ["registry-1.docker.io", "index.docker.io", "docker.io", "registry.hub.docker.com"].contains(String(host))
    }
}
