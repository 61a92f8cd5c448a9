import Foundation
import S3Client

/// Where an upload's bytes are in the bucket: the parts of an S3 multipart upload, in order
/// (each of at least 5 MiB and at most `chunksize`), then a tail object holding the bytes
/// after them that are too few for a part (S3 refuses parts under 5 MiB except the last). Kept as ``StagedUpload/location`` in the metadata
/// store, so any server continues the upload from it.
///
/// Invariant: the upload's size is the parts' sizes plus the tail's.
struct S3StagingState: Codable, Equatable {
    struct Part: Codable, Equatable {
        var number: Int
        var etag: String
        var size: Int64
    }

    struct Tail: Codable, Equatable {
        var key: String
        var size: Int64
    }

    /// The multipart upload, once the first full part was written.
    var multipartID: String?
    var parts: [Part] = []
    var tail: Tail?

    var partsSize: Int64 { parts.reduce(0) { $0 + $1.size } }

    init() {}

    init(location: String?) throws {
        guard let location else {
            self.init()
            return
        }
        self = try JSONDecoder().decode(Self.self, from: Data(location.utf8))
    }

    func encoded() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    var s3Parts: [S3Part] { parts.map { S3Part(number: $0.number, etag: $0.etag, size: $0.size) } }
}
