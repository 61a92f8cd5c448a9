import RegistryCore
import Synchronization

/// The hand-off between requests and the audit log's writer: a bounded buffer that a request
/// appends to without waiting, and a wake-up stream that tells the writer there is work.
///
/// A request never waits for the disk: ``record(_:)`` takes a lock for an array append. The
/// writer takes everything buffered at once, so events that arrive while it fsyncs form the
/// next batch. When the disk falls so far behind that ``capacity`` events wait, further
/// events are dropped and counted (the writer logs the count) rather than growing memory
/// without bound or slowing pushes.
final class AuditQueue: Sendable {
    private struct Buffer {
        var events: [AuditEvent] = []
        var dropped = 0
    }

    let capacity: Int
    private let buffer = Mutex(Buffer())
    /// At most one pending wake-up: one is enough to make the writer take the whole buffer.
    let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(capacity: Int = 65_536) {
        self.capacity = capacity
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeups = stream
        wake = continuation
    }

    func record(_ event: AuditEvent) {
        let accepted = buffer.withLock { buffer in
            guard buffer.events.count < capacity else {
                buffer.dropped += 1
                return false
            }
            buffer.events.append(event)
            return true
        }
        if accepted { wake.yield() }
    }

    /// Everything buffered, and how many events were dropped since the last call.
    func take() -> (events: [AuditEvent], dropped: Int) {
        buffer.withLock { buffer in
            defer { buffer = Buffer() }
            return (buffer.events, buffer.dropped)
        }
    }

    /// Ends ``wakeups``; events recorded later stay in the buffer for a last ``take()``.
    func finish() {
        wake.finish()
    }
}
