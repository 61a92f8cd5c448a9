extension RegistryConfiguration {
    /// `berth.limits`: what one request or one client may take from the server.
    public struct Limits: Sendable, Equatable {
        /// A token bucket per client address: `requestsPerSecond` refill, `burst` capacity.
        public struct RateLimit: Sendable, Equatable {
            public var requestsPerSecond: Double
            public var burst: Int

            public init(requestsPerSecond: Double, burst: Int) {
                self.requestsPerSecond = requestsPerSecond
                self.burst = burst
            }
        }

        /// `berth.limits.manifestsize`: the largest manifest body accepted, in bytes (413 above it).
        public var manifestSize: Int = Manifest.maximumSize
        /// `berth.limits.concurrentuploads`: blob upload requests streaming at once; more get
        /// 429 `TOOMANYREQUESTS`. 0 means no limit.
        public var concurrentUploads: Int = 256
        /// `berth.limits.ratelimit.{requestspersecond,burst}`: off (nil) by default.
        public var rateLimit: RateLimit?
        /// `berth.limits.readtimeout`: a request's head must arrive within this time of its
        /// first byte, and its body may not stall for longer; else the connection is closed.
        public var readTimeout: Duration = .seconds(60)
        /// `berth.limits.idletimeout`: a keep-alive connection with no request for this long is closed.
        public var idleTimeout: Duration = .seconds(120)
        /// `berth.limits.authfailures`: failed authentications a minute allowed per client
        /// address (and per user name, for addresses that failed); past it the answer is 429
        /// without checking the password. 0 turns the limit off.
        public var authFailures: Int = 10
        /// `berth.limits.minbodyrate`: bytes per second a request body must average over
        /// ``minBodyRatePeriod`` while the server waits for it; a slower connection is closed.
        /// 0 turns the check off.
        public var minBodyRate: Int = 1024
        /// `berth.limits.minbodyrateperiod`: the time ``minBodyRate`` is averaged over.
        public var minBodyRatePeriod: Duration = .seconds(30)
        /// `berth.limits.connectionsperclient`: open connections one client address may hold;
        /// more are closed as they are accepted. 0 means no limit.
        public var connectionsPerClient: Int = 128

        public init() {}
    }
}
