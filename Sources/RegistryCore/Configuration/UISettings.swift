extension RegistryConfiguration {
    /// `berth.ui`: the web UI served under `/ui/`.
    public struct UI: Sendable, Equatable {
        /// `berth.ui.enabled`: on by default; `false` leaves `/ui/` and `/` unanswered (404).
        public var enabled: Bool = true
        /// `berth.ui.sessionlifetime`: how long a sign-in lasts.
        public var sessionLifetime: Duration = .seconds(12 * 3600)

        public init() {}
    }
}
