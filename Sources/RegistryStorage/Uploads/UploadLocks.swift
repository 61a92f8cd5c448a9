import RegistryCore
import Synchronization

/// One request at a time per upload in this process: a second PATCH to the same session
/// while the first is still streaming is refused rather than interleaved. (Across servers,
/// ``MetadataStore/updateUpload(id:staged:expectedSize:)`` refuses the second writer.)
final class UploadLocks: Sendable {
    private let busy = Mutex<Set<String>>([])

    func hold<T>(_ id: String, _ body: () async throws -> T) async throws -> T {
        guard busy.withLock({ $0.insert(id).inserted }) else {
            throw RegistryError(
                .blobUploadInvalid, "another request is writing to this upload", condition: .rangeMismatch)
        }
        defer { _ = busy.withLock { $0.remove(id) } }
        return try await body()
    }
}
