import Foundation

/// The PostgreSQL schema as an ordered list of numbered migrations. Never edit a shipped
/// migration: append one. `registryctl database migrate up` applies the pending ones; registryd
/// refuses to start while any is pending or while the database records one this build does
/// not know (a newer registryd migrated it), so that no node runs against a schema it was not
/// written for.
///
/// Times are seconds since 1970 (`float8`) as in the SQLite store, taken from the database
/// server's clock so that every node of a fleet agrees on them. Names are compared in byte
/// order (`COLLATE "C"`), which the tag and catalog listings promise.
public enum PostgresSchema {
    public struct Migration: Sendable {
        public let version: Int64
        public let name: String
        let sql: String

        /// The statements one by one: the extended query protocol takes one at a time. A
        /// semicolon ends a statement unless it is inside a `$$`-quoted function body (no
        /// migration has one in a string or a comment).
        var statements: [String] {
            var statements: [String] = []
            var current = ""
            for (index, part) in sql.components(separatedBy: "$$").enumerated() {
                if index > 0 { current += "$$" }
                guard index % 2 == 0 else {
                    current += part
                    continue
                }
                let pieces = part.split(separator: ";", omittingEmptySubsequences: false)
                for (offset, piece) in pieces.enumerated() {
                    current += piece
                    if offset < pieces.count - 1 {
                        statements.append(current)
                        current = ""
                    }
                }
            }
            statements.append(current)
            return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.split(separator: "\n").allSatisfy { $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") } }
        }
    }

    public static let migrations: [Migration] = [
        Migration(
            version: 1, name: "metadata",
            sql: """
                CREATE TABLE repository (
                    id bigserial PRIMARY KEY,
                    name text COLLATE "C" NOT NULL UNIQUE,
                    created_at float8 NOT NULL
                );
                CREATE TABLE blob (
                    digest text PRIMARY KEY,
                    size bigint NOT NULL,
                    created_at float8 NOT NULL
                );
                CREATE INDEX blob_by_created ON blob (created_at);
                CREATE TABLE repository_blob (
                    repository_id bigint NOT NULL REFERENCES repository (id) ON DELETE CASCADE,
                    digest text NOT NULL REFERENCES blob (digest),
                    linked_at float8 NOT NULL,
                    PRIMARY KEY (repository_id, digest)
                );
                CREATE INDEX repository_blob_by_digest ON repository_blob (digest);
                CREATE TABLE manifest (
                    id bigserial PRIMARY KEY,
                    repository_id bigint NOT NULL REFERENCES repository (id) ON DELETE CASCADE,
                    digest text NOT NULL,
                    media_type text NOT NULL,
                    size bigint NOT NULL,
                    content bytea NOT NULL,
                    subject text,
                    artifact_type text,
                    created_at float8 NOT NULL,
                    UNIQUE (repository_id, digest)
                );
                CREATE INDEX manifest_by_subject ON manifest (repository_id, subject) WHERE subject IS NOT NULL;
                -- No reference to blob: a pull-through cache stores a manifest before its blobs.
                CREATE TABLE manifest_blob (
                    manifest_id bigint NOT NULL REFERENCES manifest (id) ON DELETE CASCADE,
                    digest text NOT NULL,
                    PRIMARY KEY (manifest_id, digest)
                );
                CREATE INDEX manifest_blob_by_digest ON manifest_blob (digest);
                CREATE TABLE manifest_child (
                    manifest_id bigint NOT NULL REFERENCES manifest (id) ON DELETE CASCADE,
                    child_digest text NOT NULL,
                    PRIMARY KEY (manifest_id, child_digest)
                );
                CREATE INDEX manifest_child_by_digest ON manifest_child (child_digest);
                CREATE TABLE tag (
                    repository_id bigint NOT NULL REFERENCES repository (id) ON DELETE CASCADE,
                    name text COLLATE "C" NOT NULL,
                    manifest_id bigint NOT NULL REFERENCES manifest (id) ON DELETE CASCADE,
                    updated_at float8 NOT NULL,
                    PRIMARY KEY (repository_id, name)
                );
                CREATE INDEX tag_by_manifest ON tag (manifest_id);
                -- An upload's staged state (StagedUpload as JSON) and its size, which the
                -- compare-and-swap of updateUpload tests in one UPDATE.
                CREATE TABLE upload (
                    id text PRIMARY KEY,
                    repository text NOT NULL,
                    started_at float8 NOT NULL,
                    staged text NOT NULL,
                    staged_size bigint NOT NULL
                );
                CREATE INDEX upload_by_started ON upload (started_at);
                """),
        Migration(
            version: 2, name: "garbage-collection",
            sql: """
                -- Blobs whose rows garbage collection removed and whose bytes it has yet to
                -- delete, and which collector has claimed each (see GarbageCollector).
                CREATE TABLE blob_deletion (
                    digest text PRIMARY KEY,
                    size bigint NOT NULL,
                    queued_at float8 NOT NULL,
                    claimed_by text,
                    claimed_at float8
                );
                -- Digests whose bytes an upload is placing: not to be deleted meanwhile.
                CREATE TABLE blob_reservation (
                    token text PRIMARY KEY,
                    digest text NOT NULL,
                    expires_at float8 NOT NULL
                );
                CREATE INDEX blob_reservation_by_digest ON blob_reservation (digest);
                -- Backups in progress: while one is live, no blob bytes are deleted.
                CREATE TABLE blob_pin (
                    token text PRIMARY KEY,
                    expires_at float8 NOT NULL
                );
                CREATE TABLE gc_run (
                    id bigserial PRIMARY KEY,
                    started_at float8 NOT NULL,
                    finished_at float8 NOT NULL,
                    dry_run boolean NOT NULL,
                    manifests_removed bigint NOT NULL,
                    blobs_removed bigint NOT NULL,
                    bytes_freed bigint NOT NULL,
                    uploads_removed bigint NOT NULL
                );
                """),
        Migration(
            version: 3, name: "browsing",
            sql: """
                -- What the web UI lists (see BrowsingMetadataStore): last push of a repository
                -- (raised by every manifest push, never lowered by deletes), and last pulls.
                ALTER TABLE repository ADD COLUMN pushed_at float8 NOT NULL DEFAULT 0;
                ALTER TABLE repository ADD COLUMN pulled_at float8;
                ALTER TABLE tag ADD COLUMN pulled_at float8;
                ALTER TABLE manifest ADD COLUMN pulled_at float8;
                UPDATE repository r SET pushed_at = greatest(
                    (SELECT coalesce(max(updated_at), 0) FROM tag WHERE tag.repository_id = r.id),
                    (SELECT coalesce(max(created_at), 0) FROM manifest WHERE manifest.repository_id = r.id));
                CREATE INDEX tag_by_updated ON tag (repository_id, updated_at DESC, name)
                """),
        // The event outbox of the notification endpoints and each endpoint's delivery cursor
        // (see EventOutboxStore). Writers take an advisory lock before appending, so that
        // `sequence` grows in commit order.
        Migration(
            version: 4, name: "event-outbox",
            sql: """
                CREATE TABLE event_outbox (
                    sequence bigserial PRIMARY KEY,
                    event_id text NOT NULL,
                    event text NOT NULL,
                    created_at float8 NOT NULL
                );
                CREATE TABLE event_endpoint (
                    name text COLLATE "C" PRIMARY KEY,
                    delivered_through bigint NOT NULL,
                    leased_by text,
                    lease_until float8 NOT NULL DEFAULT 0
                )
                """),
        // The per-node tag list caches and what keeps them coherent (see PostgresCacheCoherence):
        // each serving node's lease, and a notification on the channel `berth_cache` from the
        // very transaction that adds, removes or renames a tag, whatever runs it. Moving a tag
        // to another manifest (an UPDATE of manifest_id) does not change any tag list.
        Migration(
            version: 5, name: "tag-list-cache",
            sql: """
                CREATE TABLE cache_lease (
                    node text COLLATE "C" PRIMARY KEY,
                    expires_at float8 NOT NULL
                );
                CREATE FUNCTION berth_tag_set_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('berth_cache', 't');
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER tag_added_or_removed AFTER INSERT OR DELETE ON tag
                    FOR EACH ROW EXECUTE FUNCTION berth_tag_set_changed();
                CREATE TRIGGER tag_renamed AFTER UPDATE OF name, repository_id ON tag
                    FOR EACH ROW EXECUTE FUNCTION berth_tag_set_changed()
                """),
    ]

    /// What the database records against what this build knows.
    public struct Status: Sendable, Equatable {
        /// Versions applied, in order.
        public var applied: [Int64]
        /// Known migrations not yet applied, in order.
        public var pending: [Int64]
        /// Applied versions this build does not know (a newer registryd migrated the database).
        public var unknown: [Int64]

        public var isCurrent: Bool { pending.isEmpty && unknown.isEmpty }
    }

    static func status(applied: [Int64]) -> Status {
        let known = Set(migrations.map(\.version))
        let done = Set(applied)
        return Status(
            applied: applied.sorted(), pending: migrations.map(\.version).filter { !done.contains($0) },
            unknown: applied.filter { !known.contains($0) }.sorted())
    }

    /// Why registryd must not serve on a schema, in one line; nil when it may.
    static func refusal(_ status: Status) -> String? {
        if let newest = status.unknown.last {
            return "the database schema has migration \(newest), which this registryd does not know; "
                + "upgrade registryd (its newest migration is \(migrations.last?.version ?? 0))"
        }
        if !status.pending.isEmpty {
            return "the database schema is not up to date (\(status.pending.count) pending migration"
                + "\(status.pending.count == 1 ? "" : "s")); run `registryctl database migrate up`"
        }
        return nil
    }
}
