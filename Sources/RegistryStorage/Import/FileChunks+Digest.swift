import RegistryCore

extension FileChunks {
    /// Hashes a local file a chunk at a time: its digest with `algorithm`, and the bytes read
    /// (fewer than `size` when the file is shorter). For verifying a blob before it is taken in.
    public static func digest(of path: String, size: Int64, algorithm: DigestAlgorithm) async throws
        -> (digest: Digest, size: Int64)
    {
        var hasher = DigestHasher(algorithm)
        var total: Int64 = 0
        for try await chunk in try FileChunks(path: path, size: size) {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            total += Int64(chunk.readableBytes)
        }
        return (hasher.finalize(), total)
    }
}
