import Foundation
import XMLCoder

/// The XML bodies S3 sends and takes, as Codable values. Element names are S3's own.
enum S3XML {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        return try decoder.decode(type, from: data)
    }

    static func encode<T: Encodable>(_ value: T, root: String) throws -> Data {
        try XMLEncoder().encode(value, withRootKey: root, header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    struct ErrorBody: Decodable {
        var Code: String
        var Message: String?
        var RequestId: String?
    }

    struct InitiateMultipartUploadResult: Decodable {
        var UploadId: String
    }

    struct CompletedPart: Encodable {
        var PartNumber: Int
        var ETag: String
    }

    struct CompleteMultipartUpload: Encodable {
        var Part: [CompletedPart]
    }

    struct CompleteMultipartUploadResult: Decodable {
        var ETag: String?
    }

    struct ListPartsResult: Decodable {
        struct Part: Decodable {
            var PartNumber: Int
            var ETag: String
            var Size: Int64
        }

        var Part: [Part]?
        var IsTruncated: Bool?
        var NextPartNumberMarker: Int?
    }

    struct ListMultipartUploadsResult: Decodable {
        struct Upload: Decodable {
            var Key: String
            var UploadId: String
            var Initiated: String?
        }

        var Upload: [Upload]?
        var IsTruncated: Bool?
        var NextKeyMarker: String?
        var NextUploadIdMarker: String?
    }

    struct ListBucketResult: Decodable {
        struct Contents: Decodable {
            var Key: String
            var Size: Int64
            var ETag: String?
            var LastModified: String?
        }

        struct CommonPrefixes: Decodable {
            var Prefix: String
        }

        var Contents: [Contents]?
        var CommonPrefixes: [CommonPrefixes]?
        var IsTruncated: Bool?
        var NextContinuationToken: String?
    }

    struct CopyResult: Decodable {
        var ETag: String?
    }

    struct Delete: Encodable {
        struct Object: Encodable {
            var Key: String
        }

        var Quiet: Bool
        var Object: [Object]
    }

    struct DeleteResult: Decodable {
        struct Failure: Decodable {
            var Key: String
            var Code: String
            var Message: String?
        }

        var Error: [Failure]?
    }
}
