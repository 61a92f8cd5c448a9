import HTTPTypes
import Hummingbird
import RegistryCore
import Synchronization

/// Enforces `berth.limits.ratelimit` (a token bucket per client address) and
/// `berth.limits.concurrentuploads` (blob bodies streaming at once). Both answer 429
/// `TOOMANYREQUESTS` with `Retry-After`.
final class RequestLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var refilled: ContinuousClock.Instant
    }

    private let rate: RegistryConfiguration.Limits.RateLimit?
    /// False when neither limit is configured: the middleware is then left out.
    var limitsRate: Bool { rate != nil }
    var limitsUploads: Bool { maximumUploads > 0 }
    private let maximumUploads: Int
    private let buckets = Mutex<[String: Bucket]>([:])
    private let uploadsInFlight = Atomic<Int>(0)
    /// Buckets kept before full ones are forgotten.
    private static let bucketsKept = 10_000

    init(_ limits: RegistryConfiguration.Limits) {
        rate = limits.rateLimit
        maximumUploads = limits.concurrentUploads
    }

    /// Takes a token from the client's bucket, or throws ``TooManyRequests``.
    func admit(client: String) throws(TooManyRequests) {
        guard let rate else { return }
        let now = ContinuousClock.now
        let burst = Double(rate.burst)
        let wait: Double? = buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, refilled: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.refilled).inSeconds * rate.requestsPerSecond)
            bucket.refilled = now
            defer {
                buckets[client] = bucket
                if buckets.count > Self.bucketsKept { Self.forgetFull(&buckets, burst: burst, rate: rate, now: now) }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate.requestsPerSecond }
            bucket.tokens -= 1
            return nil
        }
        if let wait {
            throw TooManyRequests(retryAfter: max(1, Int(wait.rounded(.up))), message: "too many requests from this client")
        }
    }

    /// Runs `body` holding one of the upload slots, or throws ``TooManyRequests`` when all are taken.
    func withUploadSlot<T>(_ body: () async throws -> T) async throws -> T {
        guard maximumUploads > 0 else { return try await body() }
        let taken = uploadsInFlight.wrappingAdd(1, ordering: .relaxed).newValue
        defer { uploadsInFlight.wrappingSubtract(1, ordering: .relaxed) }
        guard taken <= maximumUploads else {
            throw TooManyRequests(retryAfter: 1, message: "too many uploads in progress; retry")
        }
        return try await body()
    }

    private static func forgetFull(
        _ buckets: inout [String: Bucket], burst: Double, rate: RegistryConfiguration.Limits.RateLimit,
        now: ContinuousClock.Instant
    ) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.refilled).inSeconds * rate.requestsPerSecond < burst }
    }
}

/// 429 `TOOMANYREQUESTS`; the response carries `Retry-After`.
struct TooManyRequests: Error {
    var retryAfter: Int
    var message: String

    var registryError: RegistryError { RegistryError(.tooManyRequests, message) }
}
