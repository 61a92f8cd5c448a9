import NIOCore
import NIOPosix
import Synchronization

/// A sleep on a NIO event loop's timer, for deadlines raced against work on the request path.
///
/// Why not `Task.sleep`: a sleep that is cancelled returns at once, but its timer stays queued
/// in the concurrency runtime's global executor until the time it was set for, and keeps the
/// memory of the task that slept (about 0.8 KiB, by heaptrack) until then. A deadline raced
/// against every database read piles those up: over ten seconds of HEAD requests on PostgreSQL
/// at 4,000 a second, registryd's anonymous memory reached 82 MiB with a 60 s deadline and
/// 54 MiB with a 5 s one; on this timer, 44-50 MiB with either (the rest was postgres-nio's own
/// pool timers: see `PostgresConnectionSettings.longestIdleTime`). A NIO scheduled task is
/// taken off its event loop's queue, and freed, when it is cancelled.
enum EventLoopTimer {
    /// Returns once `duration` passed; throws `CancellationError` as soon as the calling task
    /// is cancelled, after cancelling the scheduled task.
    static func sleep(for duration: Duration, on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next())
        async throws
    {
        let state = Mutex(State.starting)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let scheduled = eventLoop.scheduleTask(in: TimeAmount(duration)) { () -> Void in
                    if let continuation = state.withLock({ $0.fire() }) { continuation.resume() }
                }
                switch state.withLock({ $0.arm(continuation, scheduled) }) {
                case .wait:
                    break
                case .resume:
                    continuation.resume()
                case .cancel:
                    scheduled.cancel()
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            if let (continuation, scheduled) = state.withLock({ $0.cancel() }) {
                scheduled.cancel()
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Who resumes the continuation: exactly one of the timer, the cancellation handler, or
    /// the code that armed the timer when one of the other two came first.
    private enum State {
        case starting
        case armed(CheckedContinuation<Void, any Error>, Scheduled<Void>)
        case firedEarly
        case cancelledEarly
        case finished

        enum Arming {
            case wait, resume, cancel
        }

        mutating func arm(_ continuation: CheckedContinuation<Void, any Error>, _ scheduled: Scheduled<Void>) -> Arming {
            switch self {
            case .starting:
                self = .armed(continuation, scheduled)
                return .wait
            case .firedEarly:
                self = .finished
                return .resume
            case .cancelledEarly:
                self = .finished
                return .cancel
            case .armed, .finished:
                preconditionFailure("EventLoopTimer armed twice")
            }
        }

        /// The timer fired: the continuation to resume, if it was armed and not yet resumed.
        mutating func fire() -> CheckedContinuation<Void, any Error>? {
            switch self {
            case .starting:
                self = .firedEarly
                return nil
            case .armed(let continuation, _):
                self = .finished
                return continuation
            case .firedEarly, .cancelledEarly, .finished:
                return nil
            }
        }

        /// The task was cancelled: the continuation and timer to end, if armed and not resumed.
        mutating func cancel() -> (CheckedContinuation<Void, any Error>, Scheduled<Void>)? {
            switch self {
            case .starting:
                self = .cancelledEarly
                return nil
            case .armed(let continuation, let scheduled):
                self = .finished
                return (continuation, scheduled)
            case .firedEarly, .cancelledEarly, .finished:
                return nil
            }
        }
    }
}
