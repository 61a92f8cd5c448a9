import GRDB

extension SQLiteSchema {
    /// Migration `browse-1`: what the web UI lists and sorts repositories and tags by, and
    /// last-pull times (see ``BrowsingMetadataStore``).
    ///
    /// A repository's tag count, linked-blob bytes and last push are columns kept current by
    /// triggers, so that a listing sorted by any of them over 10,000 repositories walks an
    /// index instead of aggregating every tag and blob link for each page. Triggers rather
    /// than code in the write paths: they also see the rows that foreign-key cascades and
    /// garbage collection remove, and an upsert that updates fires the UPDATE trigger only.
    static func browsing(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE repository ADD COLUMN tag_count INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE repository ADD COLUMN blob_bytes INTEGER NOT NULL DEFAULT 0;
                -- Seconds since 1970 of the last manifest stored or tag set; 0 for never.
                ALTER TABLE repository ADD COLUMN pushed_at REAL NOT NULL DEFAULT 0;
                ALTER TABLE repository ADD COLUMN pulled_at REAL;
                ALTER TABLE tag ADD COLUMN pulled_at REAL;
                ALTER TABLE manifest ADD COLUMN pulled_at REAL;
                UPDATE repository SET
                    tag_count = (SELECT count(*) FROM tag WHERE tag.repository_id = repository.id),
                    blob_bytes = (SELECT coalesce(sum(b.size), 0) FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                        WHERE rb.repository_id = repository.id),
                    pushed_at = max(
                        (SELECT coalesce(max(updated_at), 0) FROM tag WHERE tag.repository_id = repository.id),
                        (SELECT coalesce(max(created_at), 0) FROM manifest WHERE manifest.repository_id = repository.id));
                CREATE INDEX repository_by_pushed ON repository(pushed_at DESC, name);
                CREATE INDEX repository_by_size ON repository(blob_bytes DESC, name);
                CREATE INDEX tag_by_updated ON tag(repository_id, updated_at DESC, name);

                CREATE TRIGGER tag_inserted AFTER INSERT ON tag BEGIN
                    UPDATE repository SET tag_count = tag_count + 1, pushed_at = max(pushed_at, NEW.updated_at)
                    WHERE id = NEW.repository_id;
                END;
                CREATE TRIGGER tag_deleted AFTER DELETE ON tag BEGIN
                    UPDATE repository SET tag_count = tag_count - 1 WHERE id = OLD.repository_id;
                END;
                CREATE TRIGGER tag_pushed AFTER UPDATE OF updated_at ON tag BEGIN
                    UPDATE repository SET pushed_at = max(pushed_at, NEW.updated_at) WHERE id = NEW.repository_id;
                END;
                CREATE TRIGGER manifest_inserted AFTER INSERT ON manifest BEGIN
                    UPDATE repository SET pushed_at = max(pushed_at, NEW.created_at) WHERE id = NEW.repository_id;
                END;
                -- A link's blob row exists while the link does (repository_blob.digest references it).
                CREATE TRIGGER blob_linked AFTER INSERT ON repository_blob BEGIN
                    UPDATE repository SET blob_bytes = blob_bytes + coalesce((SELECT size FROM blob WHERE digest = NEW.digest), 0)
                    WHERE id = NEW.repository_id;
                END;
                CREATE TRIGGER blob_unlinked AFTER DELETE ON repository_blob BEGIN
                    UPDATE repository SET blob_bytes = blob_bytes - coalesce((SELECT size FROM blob WHERE digest = OLD.digest), 0)
                    WHERE id = OLD.repository_id;
                END;
                """)
    }
}
