import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// A blob's body arriving from an upstream registry, gathered on the connection's event loop
/// into large buffers that the download reads one at a time.
///
/// async-http-client's own async body hands over each socket read (about 50 KiB here) and
/// stops reading the socket until it is taken (a watermark of one): a 1 GiB blob then costs
/// some 20,000 wake-ups of the reading task and as many pauses of the connection, more CPU
/// than hashing it. Here the event loop keeps reading while up to ``highWater`` bytes wait,
/// copying each read into a ``bufferSize`` buffer, and the task wakes once per buffer.
/// Memory per download stays bounded by ``highWater`` plus one buffer.
final class UpstreamBlobStream: HTTPClientResponseDelegate {
    typealias Response = Void

    /// The size of the buffers handed over.
    static let bufferSize = 1 << 20
    /// Bytes waiting for the reader above which the connection pauses.
    static let highWater = 3 * bufferSize
    /// Bytes waiting below which a paused connection reads again.
    static let lowWater = bufferSize

    private struct State {
        var gathering = ByteBuffer()
        /// Buffers the download has written out, filled again instead of allocating: a fresh
        /// megabyte from the allocator costs 256 page faults once it has been given back.
        var spare: [ByteBuffer] = []
        /// Full buffers waiting for the reader: at most a few, so an array is enough.
        var ready: [ByteBuffer] = []
        var readyBytes = 0
        var end: Result<Void, any Error>?
        var reader: CheckedContinuation<ByteBuffer?, any Error>?
        var paused: EventLoopPromise<Void>?
        var discarding = false
        var headDone = false

        /// The partly filled buffer at the body's end, once; nil when nothing is left.
        mutating func takeRest() -> ByteBuffer? {
            defer { gathering = ByteBuffer() }
            return gathering.readableBytes > 0 ? gathering : nil
        }
    }

    private let state = Mutex(State())
    private let head: EventLoopPromise<HTTPResponseHead>

    init(eventLoop: any EventLoop) {
        head = eventLoop.makePromise()
    }

    /// The response head, or the failure that came before it.
    func responseHead() async throws -> HTTPResponseHead {
        try await head.futureResult.get()
    }

    /// Ends a response before its head (the request failed to start or was cancelled).
    func fail(_ error: any Error) {
        if claimHead() { head.fail(error) }
        finish(.failure(error))
    }

    /// True the first time only: the head promise is completed once, by the head or a failure.
    private func claimHead() -> Bool {
        state.withLock { state in
            defer { state.headDone = true }
            return !state.headDone
        }
    }

    /// The next buffer of the body, nil at its end; throws when the body was cut off.
    func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            let (answer, resume) = state.withLock { state -> (Result<ByteBuffer?, any Error>?, EventLoopPromise<Void>?) in
                if !state.ready.isEmpty {
                    let buffer = state.ready.removeFirst()
                    state.readyBytes -= buffer.readableBytes
                    var resume: EventLoopPromise<Void>?
                    if state.readyBytes <= Self.lowWater {
                        resume = state.paused
                        state.paused = nil
                    }
                    return (.success(buffer), resume)
                }
                switch state.end {
                case .success:
                    return (.success(state.takeRest()), nil)
                case .failure(let error):
                    return (.failure(error), nil)
                case nil:
                    state.reader = continuation
                    return (nil, nil)
                }
            }
            resume?.succeed()
            if let answer { continuation.resume(with: answer) }
        }
    }

    /// Gives back a buffer from ``next()`` that nothing else holds any more, to be filled again.
    func recycle(_ buffer: ByteBuffer) {
        state.withLock { state in
            if state.spare.count < Self.spareBuffers, !state.discarding { state.spare.append(buffer) }
        }
    }

    /// Written-out buffers kept for filling again.
    static let spareBuffers = 2

    /// Drops the rest of the body: an unwanted response's (so that its connection can be used
    /// again), or one the download gave up on.
    func discard() {
        let resume = state.withLock { state in
            state.discarding = true
            state.ready.removeAll()
            state.readyBytes = 0
            state.gathering = ByteBuffer()
            state.spare.removeAll()
            defer { state.paused = nil }
            return state.paused
        }
        resume?.succeed()
    }

    // MARK: The connection's side, on its event loop

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        if claimHead() { self.head.succeed(head) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ part: ByteBuffer) -> EventLoopFuture<Void> {
        let (handOver, reader, paused) = state.withLock { state -> (ByteBuffer?, CheckedContinuation<ByteBuffer?, any Error>?, EventLoopPromise<Void>?) in
            if state.discarding { return (nil, nil, nil) }
            var full: ByteBuffer?
            if state.gathering.readableBytes > 0, state.gathering.writableBytes < part.readableBytes {
                full = state.gathering
                state.gathering = ByteBuffer()
            }
            if state.gathering.capacity == 0 {
                if var reused = state.spare.popLast(), reused.capacity >= part.readableBytes {
                    reused.clear()
                    state.gathering = reused
                } else {
                    state.gathering = ByteBufferAllocator().buffer(capacity: max(Self.bufferSize, part.readableBytes))
                }
            }
            state.gathering.writeImmutableBuffer(part)
            guard let full else { return (nil, nil, nil) }
            if let reader = state.reader {
                state.reader = nil
                return (full, reader, nil)
            }
            state.ready.append(full)
            state.readyBytes += full.readableBytes
            if state.readyBytes >= Self.highWater {
                let paused = task.eventLoop.makePromise(of: Void.self)
                state.paused = paused
                return (nil, nil, paused)
            }
            return (nil, nil, nil)
        }
        if let reader, let handOver { reader.resume(returning: handOver) }
        return paused?.futureResult ?? task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        fail(error)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        finish(.success(()))
    }

    /// Records the end of the body and wakes a waiting reader with what is left.
    private func finish(_ outcome: Result<Void, any Error>) {
        let (reader, answer, paused) = state.withLock { state -> (CheckedContinuation<ByteBuffer?, any Error>?, Result<ByteBuffer?, any Error>, EventLoopPromise<Void>?) in
            if state.end == nil { state.end = outcome }
            let paused = state.paused
            state.paused = nil
            guard let reader = state.reader else { return (nil, .success(nil), paused) }
            state.reader = nil
            switch outcome {
            case .failure(let error):
                return (reader, .failure(error), paused)
            case .success:
                return (reader, .success(state.takeRest()), paused)
            }
        }
        paused?.succeed()
        reader?.resume(with: answer)
    }
}
