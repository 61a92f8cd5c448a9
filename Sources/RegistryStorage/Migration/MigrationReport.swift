import Foundation

/// What `registryctl migrate` did (or, in a dry run, would do).
public struct MigrationReport: Sendable, Codable {
    /// Something that could not be copied, and what needs it. Kinds: `missing blob`,
    /// `corrupt blob`, `unreadable blob`, `invalid manifest`, `manifest not copied`,
    /// `tag not copied`.
    public typealias Problem = ImportReport.Problem

    public var dryRun: Bool
    public var repositories = 0
    /// Blobs whose bytes this run placed in the destination (copied, or hard-linked when both
    /// stores are directories on one file system).
    public var blobsCopied = 0
    public var blobsLinked = 0
    public var bytesCopied: Int64 = 0
    /// Blob links made without copying bytes: the destination held them already (another
    /// repository's, or from a run cut short).
    public var blobsShared = 0
    /// Blob links the destination had already (a second run).
    public var blobsSkipped = 0
    /// Bytes read from the source and hashed.
    public var bytesVerified: Int64 = 0
    public var manifestsCopied = 0
    public var manifestsSkipped = 0
    /// Manifests copied, of those counted in ``manifestsCopied``, that the source holds without
    /// some of their blobs or child manifests (a pull-through cache's, fetched from the upstream
    /// when a client asks): the destination holds them the same way.
    public var manifestsWithoutContent = 0
    public var tagsCopied = 0
    public var tagsSkipped = 0
    public var problems: [Problem] = []
    public var seconds = 0.0

    public init(dryRun: Bool) {
        self.dryRun = dryRun
    }
}
