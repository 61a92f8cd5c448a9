import Testing

@testable import RegistryHTTP

/// The failure counter of `berth.limits.authfailures`: windows, expiry, reset on success,
/// and which addresses a user name's limit applies to.
@Suite struct AuthFailureLimiterTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }

    func fail(_ limiter: AuthFailureLimiter, _ times: Int, address: String, user: String?, at seconds: Double = 0) {
        for _ in 0..<times { limiter.recordFailure(address: address, user: user, now: at(seconds)) }
    }

    @Test func anAddressIsRefusedAfterTheThresholdAndLoggedOnce() {
        let limiter = AuthFailureLimiter(threshold: 3)
        fail(limiter, 2, address: "10.0.0.1", user: "alice")
        #expect(limiter.check(address: "10.0.0.1", user: "alice", now: at(1)) == .proceed)
        fail(limiter, 1, address: "10.0.0.1", user: "mallory", at: 1)
        // Any user name from that address, known or not.
        #expect(limiter.check(address: "10.0.0.1", user: "bob", now: at(10)) == .refuse(retryAfter: 50, log: true))
        #expect(limiter.check(address: "10.0.0.1", user: nil, now: at(20)) == .refuse(retryAfter: 40, log: false))
        // Another address is not affected.
        #expect(limiter.check(address: "10.0.0.2", user: "bob", now: at(20)) == .proceed)
    }

    @Test func theWindowEndsAMinuteAfterItsFirstFailure() {
        let limiter = AuthFailureLimiter(threshold: 2)
        fail(limiter, 2, address: "a", user: "u", at: 0)
        #expect(limiter.check(address: "a", user: nil, now: at(59.5)) == .refuse(retryAfter: 1, log: true))
        #expect(limiter.check(address: "a", user: nil, now: at(60)) == .proceed)
        // A new window: counting starts again, and a new refusal is logged again.
        fail(limiter, 1, address: "a", user: nil, at: 61)
        #expect(limiter.check(address: "a", user: nil, now: at(62)) == .proceed)
        fail(limiter, 1, address: "a", user: nil, at: 62)
        #expect(limiter.check(address: "a", user: nil, now: at(63)) == .refuse(retryAfter: 58, log: true))
    }

    @Test func aUserNameLimitBlocksOnlyAddressesThatFailed() {
        let limiter = AuthFailureLimiter(threshold: 3)
        // Three addresses guess alice's password once each.
        for address in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] { fail(limiter, 1, address: address, user: "alice") }
        // They are refused for alice now, though none is over its own limit...
        #expect(limiter.check(address: "1.1.1.1", user: "alice", now: at(1)) == .refuse(retryAfter: 59, log: true))
        #expect(limiter.check(address: "2.2.2.2", user: "alice", now: at(1)) == .refuse(retryAfter: 59, log: false))
        // ...but may still try another name,
        #expect(limiter.check(address: "1.1.1.1", user: "bob", now: at(1)) == .proceed)
        // and alice, from an address that has not failed, gets in at once.
        #expect(limiter.check(address: "9.9.9.9", user: "alice", now: at(1)) == .proceed)
    }

    @Test func successResetsTheUsersCountButNotTheAddresss() {
        let limiter = AuthFailureLimiter(threshold: 3)
        fail(limiter, 2, address: "a", user: "alice")
        fail(limiter, 1, address: "b", user: "alice")
        #expect(limiter.check(address: "b", user: "alice", now: at(1)) != .proceed)
        limiter.recordSuccess(user: "alice")
        #expect(limiter.check(address: "b", user: "alice", now: at(1)) == .proceed)
        // The address keeps its two failures: one more and it is refused.
        fail(limiter, 1, address: "a", user: "carol", at: 2)
        #expect(limiter.check(address: "a", user: "alice", now: at(3)) != .proceed)
    }

    @Test func tokensCountPerAddressOnly() {
        let limiter = AuthFailureLimiter(threshold: 2)
        fail(limiter, 2, address: "a", user: nil)
        #expect(limiter.entries.users == 0)
        #expect(limiter.check(address: "a", user: nil, now: at(1)) != .proceed)
    }

    @Test func memoryStaysBoundedUnderManyAddresses() {
        let limiter = AuthFailureLimiter(threshold: 5, capacity: 1000)
        for index in 0..<50_000 {
            limiter.recordFailure(address: "10.\(index / 65536).\(index / 256 % 256).\(index % 256)", user: "u\(index)", now: at(Double(index) / 100))
        }
        let (addresses, users) = limiter.entries
        #expect(addresses <= 1000 && users <= 1000)
        // Expired entries go first: after a quiet minute one new failure leaves a small table.
        limiter.recordFailure(address: "x", user: nil, now: at(1000))
        for index in 0..<1001 { limiter.recordFailure(address: "y\(index)", user: nil, now: at(2000)) }
        #expect(limiter.entries.addresses <= 1000)
    }

    @Test func blockedEntriesSurvivePruningWhileTheyFit() {
        let limiter = AuthFailureLimiter(threshold: 2, capacity: 100)
        fail(limiter, 2, address: "guesser", user: nil)
        for index in 0..<200 { limiter.recordFailure(address: "once-\(index)", user: nil, now: at(1)) }
        #expect(limiter.check(address: "guesser", user: nil, now: at(2)) != .proceed)
    }
}
