import Foundation
import GRDB
import RegistryCore

/// The event outbox (see ``EventOutboxStore``).
extension SQLiteMetadataStore: EventOutboxStore {
    /// Appends encoded events inside the caller's transaction.
    static func appendOutbox(_ events: [(id: String, json: String)], in db: Database) throws {
        guard !events.isEmpty else { return }
        let now = Self.now
        let statement = try db.cachedStatement(
            sql: "INSERT INTO event_outbox (event_id, event, created_at) VALUES (?, ?, ?)")
        for event in events { try statement.execute(arguments: [event.id, event.json, now]) }
    }

    public func appendEvents(_ events: [RegistryEvent]) async throws {
        let encoded = try RegistryEvent.encodedForOutbox(events)
        guard !encoded.isEmpty else { return }
        try await write { db in try Self.appendOutbox(encoded, in: db) }
    }

    public func claimOutbox(endpoint: String, owner: String, lease: Duration) async throws -> Bool {
        try await lightWrite { db in
            let now = Self.now
            try db.execute(
                sql: "INSERT INTO event_endpoint (name, delivered_through) VALUES (?, 0) ON CONFLICT(name) DO NOTHING",
                arguments: [endpoint])
            try db.execute(
                sql: """
                    UPDATE event_endpoint SET leased_by = ?, lease_until = ?
                    WHERE name = ? AND (leased_by IS NULL OR leased_by = ? OR lease_until < ?)
                    """,
                arguments: [owner, now + lease.inSeconds, endpoint, owner, now])
            return db.changesCount > 0
        }
    }

    public func outboxEvents(for endpoint: String, limit: Int) async throws -> [OutboxEntry] {
        let rows = try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT sequence, event FROM event_outbox
                    WHERE sequence > coalesce((SELECT delivered_through FROM event_endpoint WHERE name = ?), 0)
                    ORDER BY sequence LIMIT ?
                    """,
                arguments: [endpoint, limit]
            ).map { (sequence: $0[0] as Int64, json: $0[1] as String) }
        }
        return try rows.map { OutboxEntry(sequence: $0.sequence, event: try RegistryEvent.decode(Data($0.json.utf8))) }
    }

    public func acknowledgeOutbox(endpoint: String, owner: String, through sequence: Int64) async throws -> Bool {
        // Durable: a cursor lost in a power cut would send its events again.
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE event_endpoint SET delivered_through = max(delivered_through, ?)
                    WHERE name = ? AND leased_by = ?
                    """,
                arguments: [sequence, endpoint, owner])
            return db.changesCount > 0
        }
    }

    public func outboxDepth(for endpoint: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM event_outbox
                    WHERE sequence > coalesce((SELECT delivered_through FROM event_endpoint WHERE name = ?), 0)
                    """,
                arguments: [endpoint]) ?? 0
        }
    }

    public func pruneOutbox(endpoints: [String]) async throws -> Int {
        guard !endpoints.isEmpty else { return 0 }
        let names = Self.jsonArray(endpoints)
        return try await lightWrite { db in
            // An endpoint without a cursor yet has delivered nothing: nothing goes.
            let cursors = try Int64.fetchAll(
                db, sql: "SELECT delivered_through FROM event_endpoint WHERE name IN (SELECT value FROM json_each(?))",
                arguments: [names])
            guard cursors.count == Set(endpoints).count, let through = cursors.min(), through > 0 else { return 0 }
            try db.execute(sql: "DELETE FROM event_outbox WHERE sequence <= ?", arguments: [through])
            return db.changesCount
        }
    }
}
