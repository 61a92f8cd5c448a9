import RegistryCore
import Synchronization

/// Facts about a request that inner middleware learns and outer middleware reports.
///
/// Contexts travel inward by value, so a fact found on the way in (who the user is, which
/// endpoint the path named) cannot reach the access log and the metrics on the way out
/// except through a shared reference like this one.
final class RequestRecord: Sendable {
    private struct Facts {
        var user: String?
        var routeLabel: String?
        var route: Route?
        var endpoint: APIEndpoint?
    }

    private let facts = Mutex(Facts())

    /// The authenticated user, if any.
    var user: String? {
        get { facts.withLock { $0.user } }
        set { facts.withLock { $0.user = newValue } }
    }

    /// The metrics label of the endpoint the path named (`manifest`, `blob`...), if any.
    var routeLabel: String? {
        get { facts.withLock { $0.routeLabel } }
    }

    /// The API route the path names, and the endpoint serving the request's method on it
    /// (nil when the route does not take that method). Set by ``FrontDoors``.
    var resolution: (route: Route, endpoint: APIEndpoint?)? {
        facts.withLock { facts in facts.route.map { ($0, facts.endpoint) } }
    }

    func resolve(_ route: Route, _ endpoint: APIEndpoint?) {
        facts.withLock { facts in
            facts.route = route
            facts.endpoint = endpoint
            facts.routeLabel = route.kind.rawValue
        }
    }
}
