import RegistryCore

/// Why the upstream could not give what a client asked for, before it becomes the OCI error
/// the client sees (always naming the upstream, never its credentials).
enum UpstreamFailure: Error, CustomStringConvertible {
    /// No connection, a timeout, or a 5xx: cached content may still be served.
    case unreachable(String, String)
    /// The upstream refused the mirror (bad credentials, a token realm failing).
    case refused(String, String)
    /// The upstream sent something that is not what was asked for: a wrong digest, a short
    /// body, an invalid or oversized manifest. Nothing of it is cached.
    case invalidContent(String, String)

    var description: String {
        switch self {
        case .unreachable(let upstream, let why): "upstream \(upstream) unreachable: \(why)"
        case .refused(let upstream, let why): "upstream \(upstream) refused the mirror: \(why)"
        case .invalidContent(let upstream, let why): "upstream \(upstream) sent invalid content: \(why)"
        }
    }

    /// What the client is told: 503 `UNAVAILABLE`, naming the upstream.
    var registryError: RegistryError {
        switch self {
        case .unreachable(let upstream, _):
            RegistryError(.unavailable, "the upstream registry \(upstream) is unavailable", detail: upstream, condition: .retryLater)
        case .refused(let upstream, _):
            RegistryError(.unavailable, "the upstream registry \(upstream) refused the mirror's request", detail: upstream)
        case .invalidContent(let upstream, let why):
            RegistryError(.unavailable, "the upstream registry \(upstream) sent invalid content; nothing was cached", detail: why)
        }
    }
}
