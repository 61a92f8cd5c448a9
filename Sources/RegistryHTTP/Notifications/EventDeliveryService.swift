import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// Posts the outbox's events to one endpoint, in outbox order, and moves the endpoint's
/// cursor only after a 2xx: an endpoint that is down, slow or refusing gets the same events
/// again until it takes them, and nothing is lost when registryd stops or crashes meanwhile
/// (at worst the batch in flight is sent twice, with the same event ids).
///
/// Retries follow Distribution's `threshold` and `backoff`: after `threshold` failures in a row
/// the endpoint is tried only every `backoff`; before that, again after a short pause. Several
/// registryd processes on one database deliver to an endpoint one at a time: each round
/// renews a lease on the endpoint's cursor, and only its holder sends.
struct EventDeliveryService: Service {
    let endpoint: RegistryConfiguration.Endpoint
    let outbox: any EventOutboxStore
    /// Every enabled endpoint's name: an event leaves the outbox once all of them passed it.
    let endpointNames: [String]
    /// This process (the events' source instance id).
    let owner: String
    let client: HTTPClient
    let logger: Logger

    /// Events per POST at most.
    static let batchSize = 50
    /// How often an idle endpoint looks for new events.
    static let pollInterval: Duration = .milliseconds(200)
    /// The pause after a failure while under `threshold`.
    static let retryPause: Duration = .milliseconds(100)

    /// Long enough for a round (one POST within `timeout`) and a renewal.
    var lease: Duration { endpoint.timeout * 2 + .seconds(3) }

    func run() async throws {
        let metrics = EndpointMetrics(endpoint: endpoint.name)
        var failures = 0
        var rounds = 0
        // When this process last took or renewed the lease: an idle endpoint only reads.
        var claimed: ContinuousClock.Instant?
        let headers = requestHeaders()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            var pause: Duration = .zero
            do {
                var entries = try await outbox.outboxEvents(for: endpoint.name, limit: Self.batchSize)
                guard !entries.isEmpty else {
                    metrics.pending.record(0)
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.pollInterval) }
                    continue
                }
                if rounds % 25 == 0 { metrics.pending.record(try await outbox.outboxDepth(for: endpoint.name)) }
                rounds += 1
                // Renewed well before it lapses, so that it holds through the POST.
                if claimed.map({ ContinuousClock.now - $0 > lease / 3 }) ?? true {
                    let now = ContinuousClock.now
                    guard try await outbox.claimOutbox(endpoint: endpoint.name, owner: owner, lease: lease) else {
                        // Another process delivers to this endpoint; take over if its lease lapses.
                        claimed = nil
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                        continue
                    }
                    // Newly taken over: read again past what the previous holder delivered.
                    if claimed == nil { entries = try await outbox.outboxEvents(for: endpoint.name, limit: Self.batchSize) }
                    claimed = now
                }
                guard let last = entries.last else { continue }
                let wanted = entries.map(\.event).filter(endpoint.wants)
                if !wanted.isEmpty { try await post(wanted, headers: headers) }
                if try await outbox.acknowledgeOutbox(endpoint: endpoint.name, owner: owner, through: last.sequence) {
                    metrics.delivered.increment(by: wanted.count)
                } else {
                    claimed = nil
                }
                failures = 0
                if entries.count < Self.batchSize {
                    _ = try await outbox.pruneOutbox(endpoints: endpointNames)
                    metrics.pending.record(try await outbox.outboxDepth(for: endpoint.name))
                }
            } catch {
                failures += 1
                metrics.failures.increment()
                if let depth = try? await outbox.outboxDepth(for: endpoint.name) { metrics.pending.record(depth) }
                pause = failures >= max(endpoint.threshold, 1) ? endpoint.backoff : Self.retryPause
                // The endpoint's name and the error only: never its URL's query or its headers,
                // which may hold secrets.
                logger.warning(
                    "event delivery failed",
                    metadata: ["endpoint": "\(endpoint.name)", "error": "\(error)", "failures": "\(failures)"])
            }
            if pause > .zero {
                let wait = pause
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            }
        }
    }

    /// The configured headers plus the envelope's content type.
    func requestHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        for header in endpoint.headers { headers.add(name: header.name, value: header.value) }
        headers.replaceOrAdd(name: "Content-Type", value: EventEnvelope.mediaType)
        return headers
    }

    /// One POST of `events`; throws unless the endpoint answers 2xx within `timeout`.
    private func post(_ events: [RegistryEvent], headers: HTTPHeaders) async throws {
        var request = HTTPClientRequest(url: endpoint.url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(ByteBuffer(data: try EventEnvelope(events: events).encoded()))
        let timeout = TimeAmount.nanoseconds(Int64(endpoint.timeout.inSeconds * 1_000_000_000))
        let response = try await client.execute(request, timeout: timeout)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else {
            throw EndpointRefusal(status: Int(response.status.code))
        }
    }
}

/// An endpoint answered something other than 2xx.
struct EndpointRefusal: Error, CustomStringConvertible {
    let status: Int
    var description: String { "the endpoint answered \(status)" }
}
