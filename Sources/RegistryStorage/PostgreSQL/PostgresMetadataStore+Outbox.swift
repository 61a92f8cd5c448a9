import Foundation
import Logging
import PostgresNIO
import RegistryCore

/// The event outbox (see ``EventOutboxStore``).
///
/// A `bigserial` alone does not grow in commit order: a transaction that took sequence 5 may
/// commit after one that took 6, and a cursor already past 6 would skip 5. So every append
/// first takes the transaction-level advisory lock ``outboxLock``, held until commit: the
/// appending tails of write transactions run one at a time, and sequences commit in order.
extension PostgresMetadataStore: EventOutboxStore {
    static let outboxLock: Int64 = 0x4245_5254_4845_5631

    /// Appends encoded events inside the caller's transaction.
    static func appendOutbox(_ events: [(id: String, json: String)], on connection: PostgresConnection, logger: Logger)
        async throws
    {
        guard !events.isEmpty else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(\(outboxLock))", logger: logger)
        for event in events {
            try await connection.query(
                """
                INSERT INTO event_outbox (event_id, event, created_at) VALUES (\(event.id), \(event.json), \(unescaped: now))
                """, logger: logger)
        }
    }

    public func appendEvents(_ events: [RegistryEvent]) async throws {
        let encoded = try RegistryEvent.encodedForOutbox(events)
        guard !encoded.isEmpty else { return }
        try await transaction { connection in
            try await Self.appendOutbox(encoded, on: connection, logger: self.logger)
        }
    }

    public func claimOutbox(endpoint: String, owner: String, lease: Duration) async throws -> Bool {
        let seconds = lease.inSeconds
        return try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO event_endpoint (name, delivered_through) VALUES (\(endpoint), 0) ON CONFLICT (name) DO NOTHING
                """, logger: self.logger)
            return try await !connection.query(
                """
                UPDATE event_endpoint SET leased_by = \(owner), lease_until = \(unescaped: Self.now) + \(seconds)
                WHERE name = \(endpoint) AND (leased_by IS NULL OR leased_by = \(owner) OR lease_until < \(unescaped: Self.now))
                RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    public func outboxEvents(for endpoint: String, limit: Int) async throws -> [OutboxEntry] {
        let rows = try await transaction { connection in
            try await connection.query(
                """
                SELECT sequence, event FROM event_outbox
                WHERE sequence > coalesce((SELECT delivered_through FROM event_endpoint WHERE name = \(endpoint)), 0)
                ORDER BY sequence LIMIT \(Int64(limit))
                """, logger: self.logger
            ).collect().map { try $0.decode((Int64, String).self) }
        }
        return try rows.map { OutboxEntry(sequence: $0.0, event: try RegistryEvent.decode(Data($0.1.utf8))) }
    }

    public func acknowledgeOutbox(endpoint: String, owner: String, through sequence: Int64) async throws -> Bool {
        try await transaction { connection in
            try await !connection.query(
                """
                UPDATE event_endpoint SET delivered_through = greatest(delivered_through, \(sequence))
                WHERE name = \(endpoint) AND leased_by = \(owner) RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
        }
    }

    public func outboxDepth(for endpoint: String) async throws -> Int {
        try await transaction { connection in
            let count = try await connection.query(
                """
                SELECT count(*) FROM event_outbox
                WHERE sequence > coalesce((SELECT delivered_through FROM event_endpoint WHERE name = \(endpoint)), 0)
                """, logger: self.logger
            ).collect().first?.decode(Int64.self)
            return Int(count ?? 0)
        }
    }

    public func pruneOutbox(endpoints: [String]) async throws -> Int {
        guard !endpoints.isEmpty else { return 0 }
        let names = Array(Set(endpoints))
        return try await transaction { connection in
            let cursors = try await connection.query(
                "SELECT delivered_through FROM event_endpoint WHERE name = ANY(\(names))", logger: self.logger
            ).collect().map { try $0.decode(Int64.self) }
            guard cursors.count == names.count, let through = cursors.min(), through > 0 else { return 0 }
            return try await connection.query(
                "DELETE FROM event_outbox WHERE sequence <= \(through) RETURNING 1", logger: self.logger
            ).collect().count
        }
    }
}
