import Foundation
import NIOCore
import PostgresNIO
import RegistryCore

/// Manifests, their references, and tags.
extension PostgresMetadataStore {
    /// Checks every reference and writes the manifest and its tag in one transaction. The
    /// links and child manifests it checks are read `FOR SHARE`: an unlink or a manifest
    /// delete that would make the check false waits for this commit (or this waits for it and
    /// then refuses), so no manifest is ever recorded over a blob its repository lost.
    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?) async throws {
        try await putManifest(manifest, in: repository, tag: tag, events: [])
    }

    public func putManifest(_ manifest: Manifest, in repository: RepositoryName, tag: Tag?, events: [RegistryEvent])
        async throws
    {
        let events = try RegistryEvent.encodedForOutbox(events)
        let tagAdded = try await transaction(.shared) { connection in
            let tagAdded = try await Self.insertManifest(manifest, in: repository, tag: tag, on: connection, logger: self.logger)
            try await Self.appendOutbox(events, on: connection, logger: self.logger)
            return tagAdded
        }
        if tagAdded { try await tagSetChanged() }
    }

    /// The checks and rows of one manifest put, inside the caller's transaction (which holds
    /// the shared lifecycle lock). Returns true when the tag is new to the repository (its tag
    /// list changed; moving an existing tag changes no list).
    @discardableResult
    static func insertManifest(
        _ manifest: Manifest, in repository: RepositoryName, tag: Tag?, on connection: PostgresConnection, logger: Logger
    ) async throws -> Bool {
        guard let repositoryID = try await Self.repositoryID(repository, on: connection, create: true, logger: logger)
        else { throw RegistryError(.unknown, "repository row vanished during its own transaction") }
        for blob in manifest.requiredBlobs {
            let size = try await connection.query(
                """
                SELECT b.size FROM repository_blob rb JOIN blob b ON b.digest = rb.digest
                WHERE rb.repository_id = \(repositoryID) AND rb.digest = \(blob.digest.description) FOR SHARE OF rb
                """, logger: logger
            ).collect().first?.decode(Int64.self)
            try blob.requireStored(size: size, as: .blob)
        }
        for child in manifest.requiredChildren {
            let size = try await connection.query(
                """
                SELECT size FROM manifest WHERE repository_id = \(repositoryID) AND digest = \(child.digest.description)
                FOR SHARE
                """, logger: logger
            ).collect().first?.decode(Int64.self)
            try child.requireStored(size: size, as: .manifest)
        }
        let content = ByteBuffer(bytes: manifest.bytes)
        try await connection.query(
            """
            INSERT INTO manifest (repository_id, digest, media_type, size, content, subject, artifact_type, created_at)
            VALUES (\(repositoryID), \(manifest.digest.description), \(manifest.mediaType), \(Int64(manifest.bytes.count)),
                \(content), \(manifest.subject?.digest.description), \(manifest.artifactType), \(unescaped: Self.now))
            ON CONFLICT (repository_id, digest) DO NOTHING
            """, logger: logger)
        guard
            let manifestID = try await connection.query(
                """
                SELECT id FROM manifest WHERE repository_id = \(repositoryID) AND digest = \(manifest.digest.description)
                FOR SHARE
                """, logger: logger
            ).collect().first?.decode(Int64.self)
        else { throw RegistryError(.unknown, "manifest row vanished during its own transaction") }
        for blob in Set(manifest.blobReferences.map(\.digest.description)) {
            try await connection.query(
                "INSERT INTO manifest_blob (manifest_id, digest) VALUES (\(manifestID), \(blob)) ON CONFLICT DO NOTHING",
                logger: logger)
        }
        for child in Set(manifest.children.map(\.digest.description)) {
            try await connection.query(
                """
                INSERT INTO manifest_child (manifest_id, child_digest) VALUES (\(manifestID), \(child))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        try await connection.query(
            "UPDATE repository SET pushed_at = greatest(pushed_at, \(unescaped: Self.now)) WHERE id = \(repositoryID)",
            logger: logger)
        guard let tag else { return false }
        // xmax is 0 in a row this statement inserted, and set in one it updated.
        return try await connection.query(
            """
            INSERT INTO tag (repository_id, name, manifest_id, updated_at)
            VALUES (\(repositoryID), \(tag.value), \(manifestID), \(unescaped: Self.now))
            ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id,
                updated_at = excluded.updated_at
            RETURNING xmax = 0
            """, logger: logger
        ).collect().first?.decode(Bool.self) ?? true
    }

    public func manifest(_ reference: Reference, in repository: RepositoryName) async throws -> StoredManifest? {
        let row = try await statement { connection in
            switch reference {
            case .tag(let tag):
                try await connection.execute(
                    PostgresHotReads.ManifestByTag(repository: repository.value, key: tag.value), logger: self.logger
                ).rows().first
            case .digest(let digest):
                try await connection.execute(
                    PostgresHotReads.ManifestByDigest(repository: repository.value, key: digest.description),
                    logger: self.logger
                ).rows().first
            }
        }
        guard let row, let digest = try? Digest(parsing: row.0) else { return nil }
        return StoredManifest(
            digest: digest, mediaType: row.1, bytes: Array(row.2.readableBytesView),
            subject: row.3.flatMap { try? Digest(parsing: $0) }, artifactType: row.4)
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName) async throws -> Bool {
        try await deleteManifest(digest, in: repository, events: [])
    }

    public func deleteManifest(_ digest: Digest, in repository: RepositoryName, events: [RegistryEvent]) async throws
        -> Bool
    {
        let events = try RegistryEvent.encodedForOutbox(events)
        let deleted = try await transaction(.shared) { connection in
            // Tags, blob references and child references go with it (ON DELETE CASCADE).
            let deleted = try await !connection.query(
                """
                DELETE FROM manifest m USING repository r
                WHERE r.id = m.repository_id AND r.name = \(repository.value) AND m.digest = \(digest.description)
                RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
            if deleted { try await Self.appendOutbox(events, on: connection, logger: self.logger) }
            return deleted
        }
        if deleted { try await tagSetChanged() }
        return deleted
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName) async throws -> Bool {
        try await deleteTag(tag, in: repository, events: [])
    }

    public func deleteTag(_ tag: Tag, in repository: RepositoryName, events: [RegistryEvent]) async throws -> Bool {
        let events = try RegistryEvent.encodedForOutbox(events)
        let deleted = try await transaction(.shared) { connection in
            let deleted = try await !connection.query(
                """
                DELETE FROM tag t USING repository r
                WHERE r.id = t.repository_id AND r.name = \(repository.value) AND t.name = \(tag.value) RETURNING 1
                """, logger: self.logger
            ).collect().isEmpty
            if deleted { try await Self.appendOutbox(events, on: connection, logger: self.logger) }
            return deleted
        }
        if deleted { try await tagSetChanged() }
        return deleted
    }

    /// Uses the `manifest_by_subject` index.
    public func referrers(of subject: Digest, in repository: RepositoryName, artifactType: String?) async throws
        -> [StoredManifest]
    {
        let rows = try await statement { connection in
            try await connection.query(
                """
                SELECT m.digest, m.media_type, m.content, m.artifact_type FROM manifest m JOIN repository r ON r.id = m.repository_id
                WHERE r.name = \(repository.value) AND m.subject = \(subject.description)
                AND (\(artifactType)::text IS NULL OR m.artifact_type = \(artifactType))
                ORDER BY m.id
                """, logger: self.logger
            ).collect().map { try $0.decode((String, String, ByteBuffer, String?).self) }
        }
        return rows.compactMap { row in
            guard let digest = try? Digest(parsing: row.0) else { return nil }
            return StoredManifest(
                digest: digest, mediaType: row.1, bytes: Array(row.2.readableBytesView), subject: subject, artifactType: row.3)
        }
    }

    /// Tags in byte order after `last`: a page of the node's cached whole list when it holds
    /// one (see ``PostgresCacheCoherence``), else one prepared statement
    /// (``PostgresHotReads/Tags``). A whole list read from the database is kept for next time.
    public func tags(in repository: RepositoryName, after last: String?, limit: Int?) async throws -> [String]? {
        let cache = coherence?.tagLists
        if let cache, let names = cache.lookup(repository.value) {
            TagListCacheMetrics.hit()
            return TagListCache.page(of: names, after: last, limit: limit)
        }
        let ticket = last == nil && limit == nil ? cache?.ticket() : nil
        let read = PostgresHotReads.Tags(repository: repository.value, last: last ?? "", limit: limit.map(Int64.init) ?? .max)
        let rows = try await statement { connection in
            try await connection.execute(read, logger: self.logger).rows()
        }
        if cache != nil { TagListCacheMetrics.miss() }
        guard !rows.isEmpty else { return nil }
        let names = rows.compactMap { $0 }
        if let cache, let ticket { cache.store(names, for: repository.value, ticket: ticket) }
        return names
    }

    /// After a committed change of some repository's tag set, before the caller answers: no
    /// node of the fleet serves an older list from then on.
    func tagSetChanged() async throws {
        guard let coherence else { return }
        let started = ContinuousClock.now
        try await coherence.awaitBarrier(limit: requestDeadline)
        TagListCacheMetrics.barrier(since: started)
    }

    public func repositories(after last: String?, limit: Int?) async throws -> [String] {
        try await statement { connection in
            try await connection.query(
                "SELECT name FROM repository WHERE name > \(last ?? "") ORDER BY name LIMIT \(limit.map(Int64.init))",
                logger: self.logger
            ).collect().map { try $0.decode(String.self) }
        }
    }
}
