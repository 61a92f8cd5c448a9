import RegistryCore
import RegistryStorage

extension RegistryService {
    /// The size of a blob the repository may see. A digest that does not parse names no blob:
    /// `BLOB_UNKNOWN`, like one that is valid but absent.
    public func blob(_ digest: String, in repository: RepositoryName) async throws -> (digest: Digest, size: Int64) {
        if let pullThrough, let parsed = try? Digest(parsing: digest), let route = try await pullThrough.route(for: repository) {
            return (parsed, try await pullThrough.blobSize(parsed, route: route))
        }
        guard let parsed = try? Digest(parsing: digest), let size = try await metadata.blobSize(parsed, in: repository)
        else {
            throw RegistryError(.blobUnknown, "blob unknown to registry", detail: String(digest.prefix(256)))
        }
        return (parsed, size)
    }

    /// Opens a range of a blob for streaming. Opening before answering turns a blob that
    /// garbage collection removed a moment ago (a cached row may not know yet) into a clean
    /// `BLOB_UNKNOWN` rather than a body cut short.
    public func openBlob(_ digest: Digest, range: Range<Int64>, in repository: RepositoryName) async throws
        -> any BlobReader
    {
        if let pullThrough, let route = try await pullThrough.route(for: repository) {
            return try await pullThrough.openBlob(digest, range: range, route: route)
        }
        guard let reader = try await blobs.open(digest, range: range) else {
            throw RegistryError(.blobUnknown, "blob unknown to registry", detail: digest.description)
        }
        return reader
    }

    /// Where a client may fetch the blob directly, if the blob store offers that.
    /// In a mirrored repository only once the blob is in the store: until then the registry
    /// streams it from the upstream's download.
    public func blobRedirect(_ digest: Digest, method: BlobRedirectMethod, in repository: RepositoryName) async throws
        -> String?
    {
        guard redirectsReads else { return nil }
        if let pullThrough, let route = try await pullThrough.route(for: repository),
            try await metadata.blobSize(digest, in: route.localName) == nil
        {
            return nil
        }
        return try await blobs.redirectURL(for: digest, method: method)
    }

    /// Unlinks a blob from a repository; the bytes stay until garbage collection finds nothing
    /// else using them.
    public func deleteBlob(_ digest: String, in repository: RepositoryName) async throws -> Digest {
        try rules.requireWritable()
        try requirePrivate(repository)
        let parsed = try Digest(parsing: digest)
        try rules.requireDelete()
        let unlinked: Bool
        if let notifier {
            // Distribution's blob delete event: the repository and the digest only.
            let event = notifier.event(.delete, .init(digest: parsed.description, repository: repository.value), urlPath: nil)
            unlinked = try await notifier.outbox.unlinkBlob(parsed, from: repository, events: [event])
        } else {
            unlinked = try await metadata.unlinkBlob(parsed, from: repository)
        }
        guard unlinked else {
            throw RegistryError(.blobUnknown, "blob unknown to repository", detail: parsed.description)
        }
        return parsed
    }
}
