import NIOCore
import PostgresNIO

/// The reads behind the API's most frequent requests (a blob HEAD or GET, a manifest GET, a
/// tag list), as statements prepared once per pooled connection.
///
/// Sent as plain queries, PostgreSQL parsed and planned each of them on every request: under
/// wrk at 64 connections the database used half of the machine's CPU, most of it in its
/// parser and planner, for lookups that walk one or two unique indexes. A prepared statement
/// is parsed once per connection (postgres-nio prepares it under its `name` on the
/// connection's first use; the default name, `String(reflecting:)` of the type, would be
/// built again on every request) and then only bound and executed. The SQL is the same as before,
/// and the columns are named, so a later migration that adds columns does not disturb the
/// plans PostgreSQL keeps for them.
enum PostgresHotReads {
    /// A blob's size as linked into a repository (`key`: the digest); no row when it is not
    /// linked there.
    struct BlobSize: KeyedRead {
        static let name = "berth_blob_size"
        static let sql = """
            SELECT b.size FROM repository r
            JOIN repository_blob rb ON rb.repository_id = r.id
            JOIN blob b ON b.digest = rb.digest
            WHERE r.name = $1 AND rb.digest = $2
            """
        typealias Row = Int64

        var repository: String
        var key: String

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    /// What a manifest GET answers with: digest, media type, bytes, subject, artifact type.
    typealias ManifestRow = (String, String, ByteBuffer, String?, String?)

    /// The manifest a tag (`key`) points at.
    struct ManifestByTag: KeyedRead {
        static let name = "berth_manifest_by_tag"
        static let sql = """
            SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type FROM repository r
            JOIN tag t ON t.repository_id = r.id JOIN manifest m ON m.id = t.manifest_id
            WHERE r.name = $1 AND t.name = $2
            """
        typealias Row = ManifestRow

        var repository: String
        var key: String
    }

    /// A manifest by its digest (`key`).
    struct ManifestByDigest: KeyedRead {
        static let name = "berth_manifest_by_digest"
        static let sql = """
            SELECT m.digest, m.media_type, m.content, m.subject, m.artifact_type FROM repository r
            JOIN manifest m ON m.repository_id = r.id WHERE r.name = $1 AND m.digest = $2
            """
        typealias Row = ManifestRow

        var repository: String
        var key: String
    }

    /// A page of tags in byte order after `last` (the column's collation is "C"): no row
    /// when the repository is unknown, one row with no name when it has no tag after `last`.
    struct Tags: PostgresPreparedStatement {
        static let name = "berth_tags"
        static let sql = """
            SELECT t.name FROM repository r LEFT JOIN LATERAL (
                SELECT name FROM tag WHERE repository_id = r.id AND name > $2 ORDER BY name LIMIT $3
            ) t ON true
            WHERE r.name = $1
            """
        typealias Row = String?

        var repository: String
        var last: String
        /// `Int64.max` for no limit.
        var limit: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(repository)
            bindings.append(last)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String?.self) }
    }
}

/// A read bound to a repository name (`$1`) and one more text value (`$2`).
protocol KeyedRead: PostgresPreparedStatement {
    var repository: String { get }
    var key: String { get }
}

extension KeyedRead {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(repository)
        bindings.append(key)
        return bindings
    }
}

extension KeyedRead where Row == PostgresHotReads.ManifestRow {
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

extension AsyncSequence where Self: Sendable {
    /// Every row, read to the end: a result left half-read would hold up its connection.
    func rows() async throws -> [Element] {
        try await reduce(into: []) { $0.append($1) }
    }
}
