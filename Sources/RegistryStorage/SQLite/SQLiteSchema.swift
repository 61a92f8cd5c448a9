import GRDB

/// Versioned migrations of the metadata database. Never edit a shipped migration: add one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE repository (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL UNIQUE,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE blob (
                        digest TEXT PRIMARY KEY,
                        size INTEGER NOT NULL,
                        created_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE repository_blob (
                        repository_id INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
                        digest TEXT NOT NULL REFERENCES blob(digest),
                        linked_at REAL NOT NULL,
                        PRIMARY KEY (repository_id, digest)
                    ) WITHOUT ROWID;
                    CREATE INDEX repository_blob_by_digest ON repository_blob(digest);
                    CREATE TABLE manifest (
                        id INTEGER PRIMARY KEY,
                        repository_id INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
                        digest TEXT NOT NULL,
                        media_type TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        content BLOB NOT NULL,
                        subject TEXT,
                        artifact_type TEXT,
                        created_at REAL NOT NULL,
                        UNIQUE (repository_id, digest)
                    );
                    CREATE INDEX manifest_by_subject ON manifest(repository_id, subject) WHERE subject IS NOT NULL;
                    CREATE TABLE manifest_blob (
                        manifest_id INTEGER NOT NULL REFERENCES manifest(id) ON DELETE CASCADE,
                        digest TEXT NOT NULL REFERENCES blob(digest),
                        PRIMARY KEY (manifest_id, digest)
                    ) WITHOUT ROWID;
                    CREATE INDEX manifest_blob_by_digest ON manifest_blob(digest);
                    CREATE TABLE manifest_child (
                        manifest_id INTEGER NOT NULL REFERENCES manifest(id) ON DELETE CASCADE,
                        child_digest TEXT NOT NULL,
                        PRIMARY KEY (manifest_id, child_digest)
                    ) WITHOUT ROWID;
                    CREATE INDEX manifest_child_by_digest ON manifest_child(child_digest);
                    CREATE TABLE tag (
                        repository_id INTEGER NOT NULL REFERENCES repository(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        manifest_id INTEGER NOT NULL REFERENCES manifest(id) ON DELETE CASCADE,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (repository_id, name)
                    ) WITHOUT ROWID;
                    CREATE INDEX tag_by_manifest ON tag(manifest_id);
                    CREATE TABLE upload (
                        id TEXT PRIMARY KEY,
                        repository TEXT NOT NULL,
                        started_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("gc-1") { db in
            try db.execute(
                sql: """
                    -- Blobs whose rows garbage collection removed and whose files it has yet to
                    -- delete: a run cut short leaves them here for the next run to finish.
                    CREATE TABLE blob_deletion (
                        digest TEXT PRIMARY KEY,
                        size INTEGER NOT NULL,
                        queued_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE gc_run (
                        id INTEGER PRIMARY KEY,
                        started_at REAL NOT NULL,
                        finished_at REAL NOT NULL,
                        dry_run INTEGER NOT NULL,
                        manifests_removed INTEGER NOT NULL,
                        blobs_removed INTEGER NOT NULL,
                        bytes_freed INTEGER NOT NULL,
                        uploads_removed INTEGER NOT NULL
                    );
                    CREATE INDEX blob_by_created ON blob(created_at);
                    CREATE INDEX upload_by_started ON upload(started_at);
                    """)
        }
        migrator.registerMigration("seams-1") { db in
            try db.execute(
                sql: """
                    -- An upload's staged state (StagedUpload as JSON), so any server can go on with it.
                    ALTER TABLE upload ADD COLUMN staged TEXT;
                    -- Deletions garbage collection has claimed, by whom and when (see GarbageCollector).
                    ALTER TABLE blob_deletion ADD COLUMN claimed_by TEXT;
                    ALTER TABLE blob_deletion ADD COLUMN claimed_at REAL;
                    -- Digests whose bytes an upload is placing: not to be deleted meanwhile.
                    CREATE TABLE blob_reservation (
                        token TEXT PRIMARY KEY,
                        digest TEXT NOT NULL,
                        expires_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX blob_reservation_by_digest ON blob_reservation(digest);
                    -- Backups in progress: while one is live, no blob bytes are deleted.
                    CREATE TABLE blob_pin (
                        token TEXT PRIMARY KEY,
                        expires_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("browse-1") { db in try SQLiteSchema.browsing(db) }
        migrator.registerMigration("mirror-1") { db in
            try db.execute(
                sql: """
                    -- A pull-through cache stores a manifest before its blobs arrive from the
                    -- upstream, so a manifest's blob references no longer need a blob row. They
                    -- still keep the blob once it is here (garbage collection reads them).
                    CREATE TABLE manifest_blob_new (
                        manifest_id INTEGER NOT NULL REFERENCES manifest(id) ON DELETE CASCADE,
                        digest TEXT NOT NULL,
                        PRIMARY KEY (manifest_id, digest)
                    ) WITHOUT ROWID;
                    INSERT INTO manifest_blob_new (manifest_id, digest) SELECT manifest_id, digest FROM manifest_blob;
                    DROP TABLE manifest_blob;
                    ALTER TABLE manifest_blob_new RENAME TO manifest_blob;
                    CREATE INDEX manifest_blob_by_digest ON manifest_blob(digest);
                    """)
        }
        migrator.registerMigration("outbox-1") { db in try SQLiteSchema.outbox(db) }
        migrator.registerMigration("search-1") { db in try SQLiteSchema.repositorySearch(db) }
        return migrator
    }
}
