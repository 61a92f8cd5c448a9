import RegistryCore

/// Hash states of uploads in progress, so that a PATCH continues where the last one ended
/// without re-reading the staged bytes. One request at a time may hold an upload.
///
/// The state is a cache: after a restart it is rebuilt by re-hashing the staging file.
actor UploadStates {
    struct State: Sendable {
        var hasher: DigestHasher
        var size: Int64
    }

    private var idle: [String: State] = [:]
    private var busy: Set<String> = []

    /// Takes an upload for one request. Nil state means it must be rebuilt from disk.
    func checkOut(_ id: String) throws(RegistryError) -> State? {
        guard !busy.contains(id) else {
            throw RegistryError(.blobUploadInvalid, "another request is writing to this upload", status: 416)
        }
        busy.insert(id)
        return idle.removeValue(forKey: id)
    }

    /// Returns an upload with its state after the request (or as it was, when the request failed).
    func checkIn(_ id: String, _ state: State?) {
        busy.remove(id)
        if let state { idle[id] = state }
    }

    func forget(_ id: String) {
        busy.remove(id)
        idle.removeValue(forKey: id)
    }
}
