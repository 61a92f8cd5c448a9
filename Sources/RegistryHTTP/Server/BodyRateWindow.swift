import RegistryCore

/// `berth.limits.minbodyrate`: the bytes a request body delivered over the last ``period`` of
/// the time the server was waiting for it, and whether that is below the minimum rate.
///
/// Only time the server spends waiting for the client counts: while the server does not
/// read (back-pressure while it writes to disk) the client is not to blame. A body is never
/// judged before a whole period of such time has passed, so a client that starts slowly
/// (TCP slow start, a pause before sending) is not cut.
struct BodyRateWindow: Sendable {
    /// Bytes per second.
    let minimumRate: Int
    let period: Duration

    private var samples: [(seconds: Double, bytes: Int)] = []
    private var seconds = 0.0
    private var bytes = 0

    init(minimumRate: Int, period: Duration) {
        self.minimumRate = minimumRate
        self.period = period
    }

    /// Records `bytes` that arrived over `elapsed` of waiting; true when the body is too slow.
    mutating func record(elapsed: Duration, bytes: Int) -> Bool {
        let elapsedSeconds = max(0, elapsed.inSeconds)
        samples.append((seconds: elapsedSeconds, bytes: bytes))
        seconds += elapsedSeconds
        self.bytes += bytes
        let periodSeconds = period.inSeconds
        // Keep just over one period: drop the oldest samples while the rest still cover it.
        while let first = samples.first, seconds - first.seconds >= periodSeconds {
            seconds -= first.seconds
            self.bytes -= first.bytes
            samples.removeFirst()
        }
        guard seconds >= periodSeconds else { return false }
        return Double(self.bytes) < Double(minimumRate) * seconds
    }

    /// The average rate over the window, bytes per second (for the log).
    var averageRate: Int { seconds > 0 ? Int(Double(bytes) / seconds) : 0 }

    /// A new body starts.
    mutating func reset() {
        samples.removeAll(keepingCapacity: true)
        seconds = 0
        bytes = 0
    }
}
