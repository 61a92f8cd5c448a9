import Foundation

/// One object in a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String?
}

/// One page of a ListObjectsV2 answer.
public struct S3ListPage: Sendable {
    public var objects: [S3ObjectSummary]
    /// With a delimiter: the "folders" under the prefix, each ending in the delimiter.
    public var commonPrefixes: [String]
    /// Pass back as `continuationToken` for the next page; nil on the last page.
    public var continuationToken: String?
}

extension S3Client {
    /// One page of the keys under `prefix`, in key order.
    public func listObjects(
        prefix: String, delimiter: String? = nil, continuationToken: String? = nil, maxKeys: Int = 1000
    ) async throws -> S3ListPage {
        var query: [(String, String)] = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(maxKeys))]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send(.GET, key: nil, query: query)
        let result = try S3XML.decode(S3XML.ListBucketResult.self, from: try await collectXML(response))
        return S3ListPage(
            objects: (result.Contents ?? []).map {
                S3ObjectSummary(key: $0.Key, size: $0.Size, etag: $0.ETag.map(Self.unquote))
            },
            commonPrefixes: (result.CommonPrefixes ?? []).map(\.Prefix),
            continuationToken: result.IsTruncated == true ? result.NextContinuationToken : nil)
    }

    /// Every key under `prefix`, page by page.
    public func allObjects(prefix: String) -> AsyncThrowingStream<S3ObjectSummary, any Error> {
        let client = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var token: String?
                    repeat {
                        let page = try await client.listObjects(prefix: prefix, continuationToken: token)
                        for object in page.objects { continuation.yield(object) }
                        token = page.continuationToken
                    } while token != nil
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
