import Testing

@testable import RegistryStorage

/// The rules of the per-node tag list cache that do not need a database: entries only under
/// a live lease, no store after an invalidation that began after the read, a fresh start
/// after a lapse, pages in byte order, and the memory bound.
@Suite struct TagListCacheTests {
    let start = ContinuousClock.now

    func leased(_ cache: TagListCache = TagListCache()) -> TagListCache {
        cache.renewed(sentAt: start, validity: .seconds(2), now: start)
        return cache
    }

    @Test func nothingIsKeptOrServedWithoutALease() {
        let cache = TagListCache()
        #expect(cache.ticket(now: start) == nil)
        let held = leased(cache)
        let ticket = try! #require(held.ticket(now: start))
        held.store(["a"], for: "team/app", ticket: ticket, now: start)
        #expect(held.lookup("team/app", now: start) == ["a"])
        // The lease's validity ended: nothing is served, nothing new is kept.
        let later = start + .seconds(3)
        #expect(held.lookup("team/app", now: later) == nil)
        #expect(held.ticket(now: later) == nil)
    }

    @Test func aReadThatRacedAnInvalidationIsNotKept() {
        let cache = leased()
        let ticket = try! #require(cache.ticket(now: start))
        cache.invalidateAll()
        cache.store(["old"], for: "team/app", ticket: ticket, now: start)
        #expect(cache.lookup("team/app", now: start) == nil)
        let fresh = try! #require(cache.ticket(now: start))
        cache.store(["new"], for: "team/app", ticket: fresh, now: start)
        #expect(cache.lookup("team/app", now: start) == ["new"])
    }

    @Test func aRenewalAfterALapseStartsOverEmpty() {
        let cache = leased()
        let ticket = try! #require(cache.ticket(now: start))
        cache.store(["a"], for: "team/app", ticket: ticket, now: start)
        // Renewed in time: entries stay.
        cache.renewed(sentAt: start + .seconds(1), validity: .seconds(2), now: start + .seconds(1))
        #expect(cache.lookup("team/app", now: start + .seconds(2)) == ["a"])
        // Renewed after the validity ended: invalidations may have been missed.
        let late = start + .seconds(4)
        cache.renewed(sentAt: late, validity: .seconds(2), now: late)
        #expect(cache.lookup("team/app", now: late) == nil)
        cache.store(["a"], for: "team/app", ticket: ticket, now: late)
        #expect(cache.lookup("team/app", now: late) == nil, "a ticket from before the lapse")
    }

    @Test func aLapseDropsEverything() {
        let cache = leased()
        let ticket = try! #require(cache.ticket(now: start))
        cache.store(["a"], for: "team/app", ticket: ticket, now: start)
        cache.lapse()
        #expect(cache.validUntil == nil)
        #expect(cache.lookup("team/app", now: start) == nil)
    }

    @Test func pagesFollowByteOrder() {
        let names = ["A", "B", "a", "b", "v1", "v10", "v2"]
        #expect(TagListCache.page(of: names, after: nil, limit: nil) == names)
        #expect(TagListCache.page(of: names, after: nil, limit: 2) == ["A", "B"])
        #expect(TagListCache.page(of: names, after: "B", limit: 2) == ["a", "b"])
        #expect(TagListCache.page(of: names, after: "b0", limit: nil) == ["v1", "v10", "v2"])
        #expect(TagListCache.page(of: names, after: "v2", limit: nil) == [])
        #expect(TagListCache.page(of: names, after: "", limit: 0) == [])
        #expect(TagListCache.page(of: [], after: "x", limit: 5) == [])
    }

    @Test func longListsAreNotKeptAndTheBudgetEvictsTheOldest() {
        let cache = leased(TagListCache(maximumTags: 3, byteBudget: 1_000))
        let ticket = try! #require(cache.ticket(now: start))
        cache.store(["a", "b", "c", "d"], for: "long", ticket: ticket, now: start)
        #expect(cache.lookup("long", now: start) == nil)
        // Each entry costs 64 + its name + 16 per tag (178 bytes here): five fit in 1,000.
        let names = [String(repeating: "x", count: 40), String(repeating: "y", count: 40)]
        for index in 0..<8 { cache.store(names, for: "r\(index)", ticket: ticket, now: start) }
        #expect(cache.lookup("r0", now: start) == nil)
        #expect(cache.lookup("r7", now: start) == names)
    }
}
