import Logging
import Metrics
import NIOCore
import Synchronization

/// `berth.limits.connectionsperclient`: open connections per client address. A connection
/// over the limit is closed as it is accepted, before TLS or HTTP parsing, and counted in
/// `registry_http_connections_refused_total`.
///
/// The default, 128, is far above what one client needs (a Docker daemon pushes 5 layers and
/// pulls 3 at once over a handful of keep-alive connections), leaves room for a few dozen
/// such hosts behind one NAT address, and still keeps one address from taking more than a
/// small share of the process's file descriptors.
///
/// The table holds only addresses with open connections, so its size is bounded by them.
final class ConnectionLimiter: Sendable {
    let maximum: Int
    private let open = Mutex<[String: Int]>([:])
    private let refused = Counter(label: "registry_http_connections_refused_total", dimensions: [("reason", "per_client")])
    /// When a refusal was last logged, so that a flood logs a line a second, not one a connection.
    private let lastLogged = Mutex<ContinuousClock.Instant?>(nil)

    init(maximum: Int) { self.maximum = maximum }

    /// Takes a slot for `channel`'s client and gives it back when the channel closes; false
    /// (and nothing taken) when the client is over the limit.
    func admit(_ channel: any Channel, logger: Logger) -> Bool {
        let address = channel.remoteAddress?.ipAddress ?? "-"
        let admitted = open.withLock { open in
            let count = open[address, default: 0]
            guard count < maximum else { return false }
            open[address] = count + 1
            return true
        }
        guard admitted else {
            refused.increment()
            logRefusal(address: address, logger: logger)
            return false
        }
        channel.closeFuture.whenComplete { _ in
            self.open.withLock { open in
                let count = (open[address] ?? 1) - 1
                open[address] = count > 0 ? count : nil
            }
        }
        return true
    }

    /// Connections open from `address`, for tests.
    func openConnections(from address: String) -> Int { open.withLock { $0[address] ?? 0 } }

    private func logRefusal(address: String, logger: Logger) {
        let now = ContinuousClock.now
        let due = lastLogged.withLock { last in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        if due {
            logger.warning(
                "refusing a connection: too many open from this client",
                metadata: ["client": "\(address)", "limit": "\(maximum)"])
        }
    }
}

/// What every connection is held to besides the read and idle timeouts:
/// `berth.limits.connectionsperclient` and `berth.limits.minbodyrate`.
struct ConnectionGuards: Sendable {
    /// Nil when `connectionsperclient` is 0.
    var connections: ConnectionLimiter?
    /// Bytes per second; 0 turns the check off.
    var minimumBodyRate = 0
    var bodyRatePeriod = Duration.seconds(30)

    init(connections: ConnectionLimiter? = nil, minimumBodyRate: Int = 0, bodyRatePeriod: Duration = .seconds(30)) {
        self.connections = connections
        self.minimumBodyRate = minimumBodyRate
        self.bodyRatePeriod = bodyRatePeriod
    }

    /// A fresh window for one connection, or nil when the check is off.
    func bodyRateWindow() -> BodyRateWindow? {
        minimumBodyRate > 0 ? BodyRateWindow(minimumRate: minimumBodyRate, period: bodyRatePeriod) : nil
    }
}
