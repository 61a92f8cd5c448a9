import Foundation
import NIOCore
import RegistryCore
import S3Client

extension S3BlobStore {
    /// The folder of an upload's objects: its tails and, once its parts are joined, its data.
    func uploadFolder(_ id: String) -> String { uploadsPrefix + id + "/" }
    /// The key the multipart upload builds (the parts joined, before the move to the blob's key).
    func joinedKey(_ id: String) -> String { uploadFolder(id) + "data" }

    static let stagingLost = RegistryError(.blobUploadUnknown, "the upload's staged bytes are gone")

    public func beginUpload(id: String) async throws -> StagedUpload {
        StagedUpload(id: id, location: try S3StagingState().encoded())
    }

    /// Checks that the parts and the tail the metadata store recorded are still in the bucket.
    /// Parts written by a request that failed after them are ignored: they are not recorded,
    /// and the next request writes the same part numbers again.
    public func reconcile(_ upload: StagedUpload) async throws -> StagedUpload {
        let state = try S3StagingState(location: upload.location)
        return try await storageCall("checking upload \(upload.id)") {
            if let tail = state.tail, try await s3.headObject(key: tail.key)?.size != tail.size {
                if try await s3.headObject(key: joinedKey(upload.id))?.size == upload.size { return upload }
                throw Self.stagingLost
            }
            if let multipartID = state.multipartID, !state.parts.isEmpty {
                let held: [S3Part]
                do {
                    held = try await s3.listParts(key: joinedKey(upload.id), uploadID: multipartID)
                } catch let error as S3Error where error.isNotFound {
                    // Joined already by a rehash: the data object stands for the parts.
                    if try await s3.headObject(key: joinedKey(upload.id))?.size == upload.size { return upload }
                    throw Self.stagingLost
                }
                let recorded = Dictionary(uniqueKeysWithValues: held.map { ($0.number, $0.etag) })
                guard state.parts.allSatisfy({ recorded[$0.number] == $0.etag }) else { throw Self.stagingLost }
            }
            return upload.hasher == nil ? try await rebuildingHash(upload) : upload
        }
    }

    /// Rebuilds a running hash that could not be resumed (saved by a build with another state
    /// layout) by reading the staged bytes. The parts of an unfinished multipart upload cannot
    /// be read, so they are joined first, and the upload goes on in a new multipart upload whose
    /// first part is a server-side copy of the join (at least 5 MiB, since there were parts).
    private func rebuildingHash(_ upload: StagedUpload) async throws -> StagedUpload {
        var state = try S3StagingState(location: upload.location)
        var hasher = DigestHasher(.sha256)
        guard upload.size > 0, let source = try await joinedOrSingleObject(upload) else {
            return StagedUpload(id: upload.id, size: upload.size, hasher: hasher, location: upload.location)
        }
        for try await chunk in try await s3.getObject(key: source).body {
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        }
        if source == joinedKey(upload.id) {
            let joined = joinedKey(upload.id)
            let multipartID = try await s3.createMultipartUpload(key: joined)
            let part = try await s3.uploadPartCopy(key: joined, uploadID: multipartID, number: 1, source: joined)
            state = S3StagingState()
            state.multipartID = multipartID
            state.parts = [.init(number: 1, etag: part.etag, size: upload.size)]
        }
        return StagedUpload(id: upload.id, size: upload.size, hasher: hasher, location: try state.encoded())
    }

    /// Gathers the body into parts of `chunksize` in a local spool file (``S3PartSpool``),
    /// uploading each as it fills. What is left at the end goes up as one more part when S3
    /// accepts it as one (``leftoverIsAPart(_:after:)``), else as a new tail object. The
    /// recorded state is only replaced by the returned one, so a failure part-way leaves the
    /// upload as it was: extra parts are never named, and the old tail object is still there.
    public func append<Body: AsyncSequence & Sendable>(
        _ body: Body, to upload: StagedUpload, expectedLength: Int64?
    ) async throws -> StagedUpload where Body.Element == ByteBuffer {
        let upload = upload.hasher == nil ? try await reconcile(upload) : upload
        var state = try S3StagingState(location: upload.location)
        var hasher = upload.hasher
        return try await storageCall("appending to upload \(upload.id)") {
            let partSize = settings.chunkSize
            var spool = try await S3PartSpool.make(in: spoolDirectory)
            if let tail = state.tail {
                for try await chunk in try await s3.getObject(key: tail.key).body {
                    try await spool.append(chunk)
                }
                guard spool.size == tail.size else { throw Self.stagingLost }
            }
            var received: Int64 = 0
            for try await chunk in body {
                received += Int64(chunk.readableBytes)
                if let expectedLength, received > expectedLength {
                    throw RegistryError(.sizeInvalid, "body is larger than its Content-Length")
                }
                chunk.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
                var chunk = chunk
                while chunk.readableBytes > 0 {
                    let room = Int(max(partSize - spool.size, 0))
                    if let piece = chunk.readSlice(length: min(room, chunk.readableBytes)) {
                        try await spool.append(piece)
                    }
                    if spool.size >= partSize {
                        try await uploadPart(try await spool.payload(), of: upload.id, state: &state)
                        try await spool.reset()
                    }
                }
            }
            if let expectedLength, received != expectedLength {
                throw RegistryError(.sizeInvalid, "body is shorter than its Content-Length")
            }
            let size = upload.size + received
            if received > 0 || state.tail != nil {
                if spool.size == 0 {
                    state.tail = nil
                } else if Self.leftoverIsAPart(spool.size, after: state.parts.count) {
                    try await uploadPart(try await spool.payload(), of: upload.id, state: &state)
                    state.tail = nil
                } else if state.tail?.size != spool.size || received > 0 {
                    // A new key per size: the recorded tail stays intact until the new state is.
                    let key = uploadFolder(upload.id) + "tail-\(size)"
                    try await s3.putObject(key: key, payload: try await spool.payload())
                    state.tail = .init(key: key, size: spool.size)
                }
            }
            return StagedUpload(id: upload.id, size: size, hasher: hasher, location: try state.encoded())
        }
    }

    /// Whether the bytes left at the end of a request (short of `chunksize`) go up as a part of
    /// their own rather than as a tail object.
    ///
    /// S3 takes parts of different sizes, as long as every part but the last has at least
    /// 5 MiB. A tail object costs the next request a GET of it and a PUT of it again with the
    /// new bytes: with the default 10 MiB `chunksize`, a push in 8 MiB PATCHes (the chunked
    /// workload of `bench/run.sh`) sent each byte to the bucket about twice and read half of
    /// them back. As a part, each such PATCH is one `UploadPart` of its own bytes.
    /// Such short parts use up S3's 10,000 part numbers faster, so past half of them the
    /// leftovers go back to tails, and the remaining parts are full `chunksize` parts.
    static func leftoverIsAPart(_ size: Int64, after parts: Int) -> Bool {
        size >= S3Client.minimumPartSize && parts < S3Client.maximumPartCount / 2
    }

    private func uploadPart(_ payload: S3Client.Payload, of id: String, state: inout S3StagingState) async throws {
        if state.multipartID == nil {
            state.multipartID = try await s3.createMultipartUpload(key: joinedKey(id))
        }
        guard let multipartID = state.multipartID else { return }
        let number = (state.parts.last?.number ?? 0) + 1
        guard number <= S3Client.maximumPartCount else {
            throw RegistryError(.sizeInvalid, "the upload is larger than this store's chunksize allows")
        }
        let part = try await s3.uploadPart(key: joinedKey(id), uploadID: multipartID, number: number, payload: payload)
        state.parts.append(.init(number: number, etag: part.etag, size: part.size))
    }

    /// The parts of an incomplete multipart upload cannot be read, so rehashing first joins
    /// them (with the tail as the last part) into the upload's data object, then reads that.
    /// Only the end of an upload rehashes; ``commitUpload(_:as:)`` and ``reconcile(_:)`` find
    /// the joined object.
    public func rehash(_ upload: StagedUpload, algorithm: DigestAlgorithm) async throws -> DigestHasher {
        try await storageCall("hashing upload \(upload.id)") {
            let source = try await joinedOrSingleObject(upload)
            var hasher = DigestHasher(algorithm)
            guard let source, upload.size > 0 else { return hasher }
            for try await chunk in try await s3.getObject(key: source).body {
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
            return hasher
        }
    }

    /// Moves the staged bytes to the blob's key: joins the parts and copies the result, or
    /// copies the tail alone for an upload smaller than a part. When the blob is stored already
    /// the stored copy stands.
    public func commitUpload(_ upload: StagedUpload, as digest: Digest) async throws {
        try await storageCall("storing \(digest)") {
            let destination = key(of: digest)
            if try await s3.headObject(key: destination) != nil { return }
            guard let source = try await joinedOrSingleObject(upload) else {
                try await s3.putObject(key: destination, payload: .empty)
                return
            }
            try await copy(from: source, to: destination, size: upload.size)
            guard try await s3.headObject(key: destination)?.size == upload.size else {
                throw S3StoreFailure(.failed, "S3 store: \(destination) does not have the upload's size after the copy")
            }
        }
    }

    /// The one object holding all the staged bytes: the joined data object (joining the parts
    /// first when needed), or the tail when there are no parts; nil for an empty upload.
    func joinedOrSingleObject(_ upload: StagedUpload) async throws -> String? {
        let state = try S3StagingState(location: upload.location)
        let joined = joinedKey(upload.id)
        if try await s3.headObject(key: joined)?.size == upload.size { return joined }
        guard let multipartID = state.multipartID, !state.parts.isEmpty else {
            return state.tail?.key
        }
        var parts = state.s3Parts
        if let tail = state.tail {
            let bytes = try await s3.getObjectBytes(key: tail.key, limit: Int(settings.chunkSize) * 2)
            parts.append(
                try await s3.uploadPart(
                    key: joined, uploadID: multipartID, number: (parts.last?.number ?? 0) + 1, payload: .bytes(bytes)))
        }
        try await s3.completeMultipartUpload(key: joined, uploadID: multipartID, parts: parts)
        return joined
    }

    /// Aborts the upload's multipart uploads and deletes its objects, found by listing (so
    /// that a lost session's leftovers go too).
    public func discardUpload(id: String) async throws {
        try await storageCall("discarding upload \(id)") {
            for upload in try await s3.listMultipartUploads(prefix: uploadFolder(id)) {
                try await s3.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID)
            }
            var keys: [String] = []
            for try await object in s3.allObjects(prefix: uploadFolder(id)) { keys.append(object.key) }
            if !keys.isEmpty { try await s3.deleteObjects(keys: keys) }
        }
    }

    public func stagedUploadIDs() async throws -> [String] {
        try await storageCall("listing uploads") {
            var ids = Set<String>()
            var token: String?
            repeat {
                let page = try await s3.listObjects(prefix: uploadsPrefix, delimiter: "/", continuationToken: token)
                for folder in page.commonPrefixes {
                    ids.insert(String(folder.dropFirst(uploadsPrefix.count).dropLast()))
                }
                token = page.continuationToken
            } while token != nil
            for upload in try await s3.listMultipartUploads(prefix: uploadsPrefix) {
                if let id = upload.key.dropFirst(uploadsPrefix.count).split(separator: "/").first {
                    ids.insert(String(id))
                }
            }
            return ids.sorted()
        }
    }
}
