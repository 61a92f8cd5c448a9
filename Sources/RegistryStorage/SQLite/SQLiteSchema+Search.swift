import GRDB

extension SQLiteSchema {
    /// Migration `search-1`: a trigram full-text index of repository names, which finds the
    /// names that contain a filter without reading every name (see
    /// ``RepositoryListingStatements``).
    ///
    /// An external-content FTS5 table: it stores the trigrams, not the names again; triggers
    /// keep it current with `repository` (names never change, rows are only ever added, but
    /// deletes and renames are handled too). Needs SQLite 3.34 or later built with FTS5, as
    /// Debian's is; where the trigram tokenizer is missing the migration leaves the table out,
    /// and filters walk the name index as before (``SQLiteMetadataStore/searchesNames``).
    static func repositorySearch(_ db: Database) throws {
        do {
            try db.execute(
                sql: "CREATE VIRTUAL TABLE repository_search USING fts5(name, content='repository', content_rowid='id', tokenize='trigram')"
            )
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            // "no such module: fts5" or "no such tokenizer: trigram"; anything else (I/O, a
            // full disk, a busy database) fails the migration as any other would.
            return
        }
        try db.execute(
            sql: """
                INSERT INTO repository_search(repository_search) VALUES ('rebuild');
                INSERT INTO repository_search(repository_search) VALUES ('optimize');
                -- Each insert adds a segment to the index, and a query reads every segment: after
                -- 10,000 repositories made one by one a filter took 5x as long as on one merged
                -- segment. So the index is merged whenever the repositories added since the last
                -- merge number at least 64 and a 64th of all: the merges' cost per repository
                -- stays constant (about 10% on its insert) however large the registry grows.
                CREATE TABLE repository_search_upkeep (optimized_through INTEGER NOT NULL);
                INSERT INTO repository_search_upkeep SELECT coalesce(max(id), 0) FROM repository;
                CREATE TRIGGER repository_search_inserted AFTER INSERT ON repository BEGIN
                    INSERT INTO repository_search(rowid, name) VALUES (NEW.id, NEW.name);
                    UPDATE repository_search_upkeep SET optimized_through = NEW.id
                    WHERE NEW.id - optimized_through >= max(64, NEW.id / 64);
                END;
                CREATE TRIGGER repository_search_merged AFTER UPDATE OF optimized_through ON repository_search_upkeep BEGIN
                    INSERT INTO repository_search(repository_search) VALUES ('optimize');
                END;
                CREATE TRIGGER repository_search_deleted AFTER DELETE ON repository BEGIN
                    INSERT INTO repository_search(repository_search, rowid, name) VALUES ('delete', OLD.id, OLD.name);
                END;
                CREATE TRIGGER repository_search_renamed AFTER UPDATE OF name ON repository BEGIN
                    INSERT INTO repository_search(repository_search, rowid, name) VALUES ('delete', OLD.id, OLD.name);
                    INSERT INTO repository_search(rowid, name) VALUES (NEW.id, NEW.name);
                END;
                """)
    }
}
