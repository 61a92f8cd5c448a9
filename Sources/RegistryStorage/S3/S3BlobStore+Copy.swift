import S3Client

extension S3BlobStore {
    /// Copies an object server-side: one CopyObject up to `multipartcopythresholdsize`, else a
    /// multipart copy in parts of `multipartcopychunksize`, several at once (as Distribution's
    /// driver does, since CopyObject stops at 5 GiB and is slow for large objects).
    func copy(from source: String, to destination: String, size: Int64) async throws {
        guard size > settings.multipartCopyThresholdSize else {
            try await s3.copyObject(from: source, to: destination)
            return
        }
        let chunk = settings.multipartCopyChunkSize
        let ranges = stride(from: Int64(0), to: size, by: Int(chunk)).map { $0...(min($0 + chunk, size) - 1) }
        let uploadID = try await s3.createMultipartUpload(key: destination)
        do {
            let concurrency = max(1, settings.multipartCopyMaxConcurrency)
            let parts = try await withThrowingTaskGroup(of: S3Part.self) { group in
                var parts: [S3Part] = []
                for (index, range) in ranges.enumerated() {
                    if index >= concurrency, let part = try await group.next() { parts.append(part) }
                    group.addTask {
                        try await self.s3.uploadPartCopy(
                            key: destination, uploadID: uploadID, number: index + 1, source: source, range: range)
                    }
                }
                for try await part in group { parts.append(part) }
                return parts
            }
            try await s3.completeMultipartUpload(key: destination, uploadID: uploadID, parts: parts)
        } catch {
            try? await s3.abortMultipartUpload(key: destination, uploadID: uploadID)
            throw error
        }
    }

    /// Copies, then deletes the source.
    func move(from source: String, to destination: String, size: Int64?) async throws {
        guard let size else { return }
        try await copy(from: source, to: destination, size: size)
        try await s3.deleteObject(key: source)
    }
}
