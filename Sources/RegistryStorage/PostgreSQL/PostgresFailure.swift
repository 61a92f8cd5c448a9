import PostgresNIO
import RegistryCore

/// A PostgreSQL error in the terms the layers above understand.
///
/// postgres-nio's own errors print nothing useful (on purpose, so that they cannot leak); this
/// keeps the SQLSTATE and the server's message, which name no secret (never the password),
/// for the log line, and classifies the failure: an unreachable or restarting server, a full
/// disk or a read-only standby is temporary for a client (503 with Retry-After).
struct PostgresFailure: StorageFailure, CustomStringConvertible {
    let storageCondition: StorageCondition
    let description: String

    init(_ condition: StorageCondition, _ description: String) {
        self.storageCondition = condition
        self.description = description
    }

    /// Classifies any error a query raised.
    init(_ error: any Error) {
        if let failure = error as? PostgresFailure {
            self = failure
            return
        }
        guard let error = error as? PSQLError else {
            // The pool's own errors (circuit breaker tripped, request cancelled) and socket
            // errors: the server could not be reached.
            self.init(.temporarilyUnavailable, "database unreachable: \(String(describing: error))")
            return
        }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            self.init(.temporarilyUnavailable, "database unreachable (\(error.code))")
            return
        }
        let message = error.serverInfo?[.message] ?? ""
        self.init(Self.condition(sqlState: state), "database: \(message) (SQLSTATE \(state))")
    }

    /// What a SQLSTATE means to a client (PostgreSQL's Appendix A).
    static func condition(sqlState state: String) -> StorageCondition {
        switch state {
        case "53100": .noSpace  // disk full
        case "25006": .readOnly  // read-only transaction (a standby)
        case "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03": .temporarilyUnavailable
        default:
            // 08: connection exceptions; 53: insufficient resources (too many connections).
            state.hasPrefix("08") || state.hasPrefix("53") ? .temporarilyUnavailable : .failed
        }
    }

    /// A serialization failure or deadlock: the transaction may simply be run again.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return false
        }
        return state == "40001" || state == "40P01"
    }
}

/// registryd or registryctl cannot use the database at start: unreachable, or its schema is
/// not the one this build knows. registryd prints the one line and exits with status 2.
public struct DatabaseStartupFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
