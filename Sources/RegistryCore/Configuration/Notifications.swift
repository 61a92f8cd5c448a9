extension RegistryConfiguration {
    /// `notifications`: Distribution's webhook endpoints, read unchanged. Events are written to
    /// a durable outbox with the change they describe and posted to each endpoint in order
    /// (see the README's "Event notifications").
    public struct Notifications: Sendable, Equatable {
        /// Enabled endpoints only (`disabled: true` ones are left out).
        public var endpoints: [Endpoint] = []

        public init(endpoints: [Endpoint] = []) {
            self.endpoints = endpoints
        }

        /// Whether any endpoint wants events, so that the registry records them at all.
        public var isEnabled: Bool { !endpoints.isEmpty }
    }

    /// One `notifications.endpoints` entry.
    public struct Endpoint: Sendable, Equatable {
        /// Names the endpoint in metrics and in the outbox's delivery cursor: renaming an
        /// endpoint starts it over at the events written from then on.
        public var name: String
        public var url: String
        /// Sent with every request. Values may be secrets: never logged.
        public var headers: [(name: String, value: String)] = []
        /// How long one POST may take.
        public var timeout: Duration = .seconds(1)
        /// Failures in a row after which delivery waits ``backoff`` between attempts.
        public var threshold: Int = 10
        public var backoff: Duration = .seconds(1)
        /// Events whose target has one of these media types are not sent here
        /// (`ignoredmediatypes` and `ignore.mediatypes` together).
        public var ignoredMediaTypes: Set<String> = []
        /// Events with one of these actions (push, pull, mount, delete) are not sent here.
        public var ignoredActions: Set<String> = []

        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }

        /// Whether this endpoint is sent `event`.
        public func wants(_ event: RegistryEvent) -> Bool {
            if ignoredActions.contains(event.action.rawValue) { return false }
            if let mediaType = event.target.mediaType, ignoredMediaTypes.contains(mediaType) { return false }
            return true
        }

        public static func == (lhs: Endpoint, rhs: Endpoint) -> Bool {
            lhs.name == rhs.name && lhs.url == rhs.url && lhs.headers.elementsEqual(rhs.headers) { $0 == $1 }
                && lhs.timeout == rhs.timeout && lhs.threshold == rhs.threshold && lhs.backoff == rhs.backoff
                && lhs.ignoredMediaTypes == rhs.ignoredMediaTypes && lhs.ignoredActions == rhs.ignoredActions
        }
    }
}
