import RegistryCore

/// Who asked for what a request changes or reads, for the events it causes: the request's
/// record, the authenticated user and where the registry is reached. The HTTP layer binds it
/// for the duration of a request (a task-local, so that the service's signatures, and their
/// other callers, stay as they are); outside a request it is nil and events carry an empty
/// request record, as Distribution's do for changes it makes itself.
public struct EventOrigin: Sendable {
    public var request: RegistryEvent.Request
    public var actor: RegistryEvent.Actor
    /// The registry's URL as the client reached it (`http.host` when set), with `http.prefix`:
    /// event targets' `url`s start with it.
    public var baseURL: String

    public init(request: RegistryEvent.Request, actor: RegistryEvent.Actor, baseURL: String) {
        self.request = request
        self.actor = actor
        self.baseURL = baseURL
    }

    @TaskLocal public static var current: EventOrigin?
}
