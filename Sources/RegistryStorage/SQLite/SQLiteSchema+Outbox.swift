import GRDB

extension SQLiteSchema {
    /// Migration `outbox-1`: the event outbox of the notification endpoints and each
    /// endpoint's delivery cursor (see ``EventOutboxStore``). SQLite has one writer at a time,
    /// so `sequence` grows in commit order.
    static func outbox(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE event_outbox (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_id TEXT NOT NULL,
                    event TEXT NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE TABLE event_endpoint (
                    name TEXT PRIMARY KEY,
                    delivered_through INTEGER NOT NULL,
                    leased_by TEXT,
                    lease_until REAL NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                """)
    }
}
