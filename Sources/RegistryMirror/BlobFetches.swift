import RegistryCore
import RegistryStorage

/// A download from the upstream that has its response head: the spool its body goes into and
/// the blob's size.
struct StartedFetch: Sendable {
    let spool: BlobSpool
    let size: Int64
}

/// One download per digest at a time (single flight): the first client to ask starts it,
/// everyone asking while it runs joins it and reads the same spool.
actor BlobFetches {
    private var running: [Digest: Task<StartedFetch, any Error>] = [:]

    /// The running download of `digest`, or a new one made by `start`.
    func join(_ digest: Digest, start: @escaping @Sendable () async throws -> StartedFetch) -> Task<StartedFetch, any Error> {
        if let task = running[digest] { return task }
        let task = Task { try await start() }
        running[digest] = task
        return task
    }

    /// Forgets a download that ended (committed, failed, or failed to start), unless another
    /// has taken its place.
    func end(_ digest: Digest, _ task: Task<StartedFetch, any Error>) {
        if running[digest] == task { running[digest] = nil }
    }

    /// Forgets the download of `digest`, whichever it is.
    func end(_ digest: Digest) {
        running[digest] = nil
    }
}

extension BlobFetches {
    /// The running download of `digest`, if any.
    func inFlight(_ digest: Digest) -> Task<StartedFetch, any Error>? {
        running[digest]
    }
}
