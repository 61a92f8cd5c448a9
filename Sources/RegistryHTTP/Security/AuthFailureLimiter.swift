import RegistryCore
import Synchronization

/// `berth.limits.authfailures`: counts failed authentications per client address and per
/// user name, and refuses further attempts (429 with `Retry-After`) before any password is
/// checked, so that a guessing client costs no bcrypt work once it is over the limit.
///
/// Each address and each user name has a fixed window that starts with its first failure
/// and lasts ``window`` (a minute); past it the count starts again. The rules:
///
/// - **Per address.** An address with `threshold` failures in its window is refused for
///   every credentialed request until the window ends, whatever user it names: that stops the
///   guessing address itself.
/// - **Per user name.** A user name with `threshold` failures in its window is refused only
///   to addresses that have themselves failed in their current window. A guesser spreading
///   its attempts over many addresses gets one try per address and window for that name, yet
///   the account's owner, logging in correctly from an address that has not failed, gets in
///   at once: an attacker cannot lock a user out from elsewhere by guessing their password.
/// - **Success** resets the user name's count (not the address's: many people may share one
///   address behind NAT, and a guesser who holds one valid account must not be able to wipe
///   its own address's count with it between guesses).
///
/// User names are counted whether they exist or not, so a refusal tells nothing about which
/// names are real. Bearer tokens carry no user name the registry can trust before checking
/// the signature; they are counted per address only.
///
/// Memory stays bounded: entries whose window has ended are dropped once a table holds
/// ``capacity`` entries; if it is still that full, entries below the threshold go, and as a
/// last resort the table is cleared (an attacker with that many addresses loses nothing by
/// being forgotten that it could not have by switching addresses).
final class AuthFailureLimiter: Sendable {
    /// What to do with a request that presents credentials.
    enum Verdict: Equatable, Sendable {
        /// Check the credentials.
        case proceed
        /// Answer 429 without checking them; `log` is true for the first refusal of the window.
        case refuse(retryAfter: Int, log: Bool)
    }

    struct Window: Sendable {
        var start: ContinuousClock.Instant
        var failures = 0
        var refusalLogged = false
    }

    private struct Tables {
        var addresses: [String: Window] = [:]
        var users: [String: Window] = [:]
    }

    let threshold: Int
    let window: Duration
    let capacity: Int
    private let tables = Mutex(Tables())

    init(threshold: Int, window: Duration = .seconds(60), capacity: Int = 10_000) {
        self.threshold = threshold
        self.window = window
        self.capacity = capacity
    }

    /// Before the credentials are checked: may `address` try, naming `user` (nil for a token)?
    func check(address: String, user: String?, now: ContinuousClock.Instant = .now) -> Verdict {
        tables.withLock { tables in
            let addressWindow = current(tables.addresses[address], now)
            if let addressWindow, addressWindow.failures >= threshold {
                let log = !addressWindow.refusalLogged
                tables.addresses[address]?.refusalLogged = true
                return .refuse(retryAfter: retryAfter(addressWindow, now), log: log)
            }
            guard let user, addressWindow != nil, let userWindow = current(tables.users[user], now),
                userWindow.failures >= threshold
            else { return .proceed }
            let log = !userWindow.refusalLogged
            tables.users[user]?.refusalLogged = true
            return .refuse(retryAfter: retryAfter(userWindow, now), log: log)
        }
    }

    /// The credentials were wrong.
    func recordFailure(address: String, user: String?, now: ContinuousClock.Instant = .now) {
        tables.withLock { tables in
            count(&tables.addresses, address, now)
            if let user { count(&tables.users, user, now) }
        }
    }

    /// The credentials were right: `user`'s count starts again.
    func recordSuccess(user: String?) {
        guard let user else { return }
        _ = tables.withLock { $0.users.removeValue(forKey: user) }
    }

    /// Entries held, for tests of the memory bound.
    var entries: (addresses: Int, users: Int) { tables.withLock { ($0.addresses.count, $0.users.count) } }

    // MARK: Windows

    private func current(_ window: Window?, _ now: ContinuousClock.Instant) -> Window? {
        guard let window, now - window.start < self.window else { return nil }
        return window
    }

    private func retryAfter(_ window: Window, _ now: ContinuousClock.Instant) -> Int {
        max(1, Int((window.start + self.window - now).inSeconds.rounded(.up)))
    }

    private func count(_ table: inout [String: Window], _ key: String, _ now: ContinuousClock.Instant) {
        var entry = current(table[key], now) ?? Window(start: now)
        entry.failures += 1
        table[key] = entry
        if table.count > capacity { prune(&table, now) }
    }

    private func prune(_ table: inout [String: Window], _ now: ContinuousClock.Instant) {
        // Down to half the capacity, so that pruning (a pass over the table) happens seldom.
        table = table.filter { now - $0.value.start < window }
        if table.count > capacity / 2 { table = table.filter { $0.value.failures >= threshold } }
        if table.count > capacity / 2 { table.removeAll() }
    }
}
