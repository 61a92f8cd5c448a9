import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import RegistryCore
import Testing

@testable import RegistryHTTP

/// Domain errors carry no status: the front door picks it, here and only here.
@Suite struct ErrorMappingTests {
    struct FakeStorageFailure: StorageFailure {
        var storageCondition: StorageCondition
    }

    @Test func conditionsAndCodesChooseTheStatus() {
        let logger = Logger(label: "test")
        let cases: [(any Error, Int, ErrorCode)] = [
            (RegistryError(.blobUnknown, "x"), 404, .blobUnknown),
            (RegistryError(.manifestUnknown, "x"), 404, .manifestUnknown),
            (RegistryError(.digestInvalid, "x"), 400, .digestInvalid),
            (RegistryError(.tagInvalid, "x"), 400, .tagInvalid),
            (RegistryError(.unsupported, "x"), 405, .unsupported),
            (RegistryError(.denied, "x"), 403, .denied),
            (RegistryError(.blobUploadInvalid, "x", condition: .rangeMismatch), 416, .blobUploadInvalid),
            (RegistryError(.sizeInvalid, "x", condition: .tooLarge), 413, .sizeInvalid),
            (RegistryError(.unavailable, "x", condition: .retryLater), 503, .unavailable),
            (FakeStorageFailure(storageCondition: .noSpace), 507, .unavailable),
            (FakeStorageFailure(storageCondition: .readOnly), 503, .unavailable),
            (FakeStorageFailure(storageCondition: .temporarilyUnavailable), 503, .unavailable),
            (FakeStorageFailure(storageCondition: .failed), 500, .unknown),
            (CancellationError(), 503, .unavailable),
            (TooManyRequests(retryAfter: 3, message: "slow down"), 429, .tooManyRequests),
            // A request body that stops parsing is the client's error.
            (HTTPParserError.invalidEOFState, 400, .sizeInvalid),
            (HTTPParserError.invalidChunkSize, 400, .unsupported),
        ]
        for (error, status, code) in cases {
            let (answer, body) = ErrorResponse.translate(error, logger: logger)
            #expect(answer.code == status, "\(error)")
            #expect(body.code == code, "\(error)")
        }
        let response = ErrorResponse.make(
            for: TooManyRequests(retryAfter: 3, message: "slow down"), method: .get, logger: logger)
        #expect(response.headers[.retryAfter] == "3")
        #expect(
            ErrorResponse.make(for: RegistryError(.unavailable, "x", condition: .retryLater), method: .get, logger: logger)
                .headers[.retryAfter] == "1")
    }

    @Test func theBodyIsTheOCIErrorFormat() async throws {
        try await TestRegistry().test { client in
            try await client.execute(uri: "/v2/a/blobs/uploads/?digest=sha256:abc", method: .post, body: ByteBuffer(string: "x")) {
                response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                let entry = (object?["errors"] as? [[String: Any]])?.first
                #expect(entry?["code"] as? String == "DIGEST_INVALID")
                #expect((entry?["message"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func readsOfAReferenceThatCannotExistAre404WritesAre400() async throws {
        try await TestRegistry().test { client in
            try await pushBlob(client, "conf", Array("x".utf8))
            for method: HTTPRequest.Method in [.get, .head] {
                try await client.execute(uri: "/v2/conf/manifests/.INVALID_MANIFEST_NAME", method: method) { response in
                    #expect(response.status == .notFound)
                    if method == .get { #expect(response.errorCode == "MANIFEST_UNKNOWN") }
                }
                try await client.execute(uri: "/v2/conf/manifests/sha256:abc", method: method) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/v2/conf/blobs/sha256:abc", method: method) { response in
                    #expect(response.status == .notFound)
                    if method == .get { #expect(response.errorCode == "BLOB_UNKNOWN") }
                }
            }
            try await client.execute(
                uri: "/v2/conf/manifests/.INVALID_MANIFEST_NAME", method: .put,
                headers: [.contentType: MediaType.ociManifest], body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "TAG_INVALID")
            }
            // The referrers API answers a malformed digest with 400, as the specification asks.
            try await client.execute(uri: "/v2/conf/referrers/sha256:abc", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.errorCode == "DIGEST_INVALID")
            }
        }
    }

    @Test func uploadRefusalsUseTheirConditionsStatus() async throws {
        try await TestRegistry().test { client in
            let location = try await client.execute(uri: "/v2/up/blobs/uploads/", method: .post) { response in
                #expect(response.status == .accepted)
                return response.headers[.location] ?? ""
            }
            try await client.execute(
                uri: location, method: .patch, headers: [.contentRange: "5-7", .contentLength: "3"], body: ByteBuffer(string: "abc")
            ) { response in
                #expect(response.status == .rangeNotSatisfiable)
                #expect(response.errorCode == "BLOB_UPLOAD_INVALID")
            }
            try await client.execute(uri: "/v2/_catalog?n=-1", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            let big = ByteBuffer(repeating: UInt8(ascii: " "), count: 4 * 1024 * 1024 + 1)
            try await client.execute(
                uri: "/v2/up/manifests/v1", method: .put, headers: [.contentType: MediaType.ociManifest], body: big
            ) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.errorCode == "SIZE_INVALID")
            }
        }
    }
}
