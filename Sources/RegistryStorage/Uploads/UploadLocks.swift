import RegistryCore
import Synchronization

/// One request at a time per upload in this process: a second PATCH to the same session
/// while the first is still streaming is refused rather than interleaved. (Across servers,
/// ``MetadataStore/updateUpload(id:staged:expectedSize:)`` refuses the second writer.)
final class UploadLocks: Sendable {
    private let busy = Mutex<Set<String>>([])

    /// How long a request waits for the upload's previous request to finish before it is
    /// refused. A client whose connection broke in the middle of a PATCH sends it again at
    /// once, while this process may still be winding the broken request down (dropping its
    /// partial bytes, on a busy machine for a second or more); that retry should wait for it,
    /// not fail. A writer that is really concurrent is still refused, after this long.
    static let patience: Duration = .seconds(3)

    func hold<T>(_ id: String, _ body: () async throws -> T) async throws -> T {
        try await claim(id)
        defer { _ = busy.withLock { $0.remove(id) } }
        return try await body()
    }

    /// Marks `id` busy, waiting up to ``patience`` (in steps from 5 to 200 ms) while another
    /// request holds it. The wait is a plain `Task.sleep`: it runs only when two requests meet
    /// on one upload, which is rare, so its timers cannot pile up.
    private func claim(_ id: String) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + Self.patience
        var step: Duration = .milliseconds(5)
        while !busy.withLock({ $0.insert(id).inserted }) {
            guard clock.now + step <= deadline else {
                throw RegistryError(
                    .blobUploadInvalid, "another request is writing to this upload", condition: .rangeMismatch)
            }
            try await Task.sleep(for: step)
            step = min(step * 2, .milliseconds(200))
        }
    }
}
