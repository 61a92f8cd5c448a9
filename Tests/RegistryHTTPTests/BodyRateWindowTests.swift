import Testing

@testable import RegistryHTTP

/// `berth.limits.minbodyrate`: the average over the last period of waiting time.
@Suite struct BodyRateWindowTests {
    /// Records `samples` of (seconds, bytes); the 1-based index of the first that says "too slow".
    func firstCut(_ window: inout BodyRateWindow, _ samples: [(Duration, Int)]) -> Int? {
        for (index, sample) in samples.enumerated() where window.record(elapsed: sample.0, bytes: sample.1) {
            return index + 1
        }
        return nil
    }

    @Test func aBodyIsNotJudgedBeforeAWholePeriod() {
        var window = BodyRateWindow(minimumRate: 1024, period: .seconds(30))
        #expect(firstCut(&window, Array(repeating: (.seconds(1), 0), count: 40)) == 30)
    }

    @Test func aTrickleJustAboveTheReadTimeoutIsCut() {
        var window = BodyRateWindow(minimumRate: 1024, period: .seconds(30))
        let trickle = (1...120).map { (Duration.seconds(1), $0 % 10 == 0 ? 100 : 0) }
        #expect(firstCut(&window, trickle) == 30)
    }

    @Test func aSteadySlowLinkIsNotCut() {
        var window = BodyRateWindow(minimumRate: 1024, period: .seconds(30))
        // 64 KiB/s, in bursts every quarter second
        #expect(firstCut(&window, Array(repeating: (.milliseconds(250), 16 * 1024), count: 1000)) == nil)
        // exactly the minimum is enough
        window.reset()
        #expect(firstCut(&window, Array(repeating: (.seconds(1), 1024), count: 100)) == nil)
    }

    @Test func theAverageSlidesOverTheLastPeriod() {
        var window = BodyRateWindow(minimumRate: 1000, period: .seconds(10))
        // A fast start does not buy an endless stall afterwards.
        let samples = [(Duration.seconds(1), 1_000_000)] + Array(repeating: (Duration.seconds(1), 0), count: 20)
        #expect(firstCut(&window, samples) == 11)
        // A reset starts a new body with a clean slate.
        window.reset()
        #expect(firstCut(&window, [(.seconds(5), 0)]) == nil)
    }
}
