import AsyncHTTPClient
import NIOCore
import RegistryCore
import RegistryStorage

extension PullThroughCache {
    public func blobSize(_ digest: Digest, route: MirrorTable.Route) async throws -> Int64 {
        if let size = try await metadata.blobSize(digest, in: route.localName) {
            metrics[route.mirror].hits.increment()
            return size
        }
        if let task = await fetches.inFlight(digest) {
            return try await task.value.size
        }
        // Ask the upstream before linking a copy another repository has: the upstream, not
        // this registry's private repositories, decides what a mirrored repository holds.
        let client = clients[route.mirror]
        let unknown = RegistryError(
            .blobUnknown, "blob unknown to the upstream registry", detail: "\(client.mirror.label): \(digest)")
        let response: HTTPClientResponse
        do {
            response = try await timed(route) {
                try await client.send(.HEAD, remoteName: route.remoteName, path: "blobs/\(digest)")
            }
            await response.body.drain()
            try check(response, route: route, unknown: unknown)
        } catch let failure as UpstreamFailure {
            metrics[route.mirror].upstreamErrors.increment()
            throw failure.registryError
        }
        if try await metadata.mountBlobFromAnyRepository(digest, into: route.localName),
            let size = try await metadata.blobSize(digest, in: route.localName)
        {
            metrics[route.mirror].hits.increment()
            return size
        }
        guard let size = response.headers.first(name: "Content-Length").flatMap(Int64.init) else {
            throw UpstreamFailure.invalidContent(client.mirror.label, "blob HEAD without Content-Length").registryError
        }
        return size
    }

    public func openBlob(_ digest: Digest, range: Range<Int64>, route: MirrorTable.Route) async throws -> any BlobReader {
        var linked = try await metadata.blobSize(digest, in: route.localName) != nil
        if !linked { linked = try await metadata.mountBlobFromAnyRepository(digest, into: route.localName) }
        if linked, let reader = try await blobs.open(digest, range: range) {
            return reader
        }
        metrics[route.mirror].misses.increment()
        let task = await fetches.join(digest) { [self] in try await start(digest, route: route) }
        let started: StartedFetch
        do {
            started = try await task.value
        } catch {
            await fetches.end(digest, task)
            throw error
        }
        guard range.upperBound <= started.size else {
            throw RegistryError(.sizeInvalid, "requested range is beyond the blob", detail: "size \(started.size)")
        }
        do {
            return try started.spool.reader(range: range)
        } catch {
            // The download finished and its spool is gone: the blob is in the store now.
            guard let reader = try await blobs.open(digest, range: range) else { throw error }
            return reader
        }
    }

    /// Starts a download: GETs the blob, and once the upstream answered with its size, pumps
    /// the body into a spool in a task of its own, so that a client that hangs up does not
    /// stop the download the others are reading (or the caching).
    private func start(_ digest: Digest, route: MirrorTable.Route) async throws -> StartedFetch {
        let client = clients[route.mirror]
        let label = client.mirror.label
        let response: UpstreamDownload
        do {
            response = try await timed(route) {
                try await client.download(remoteName: route.remoteName, path: "blobs/\(digest)", deadline: .seconds(24 * 3600))
            }
        } catch let failure as UpstreamFailure {
            metrics[route.mirror].upstreamErrors.increment()
            throw failure.registryError
        }
        do {
            try check(response, route: route, unknown: RegistryError(.blobUnknown, "blob unknown to the upstream registry", detail: "\(label): \(digest)"))
        } catch let failure as UpstreamFailure {
            await response.discard()
            metrics[route.mirror].upstreamErrors.increment()
            throw failure.registryError
        } catch {
            await response.discard()
            throw error
        }
        guard let size = response.headers.first(name: "Content-Length").flatMap(Int64.init), size >= 0 else {
            response.cancel()
            throw UpstreamFailure.invalidContent(label, "blob response without Content-Length").registryError
        }
        let spool: BlobSpool
        do {
            spool = try BlobSpool(directory: spoolDirectory)
        } catch {
            response.cancel()
            throw error
        }
        let started = StartedFetch(spool: spool, size: size)
        Task { [self] in
            await pump(response, into: started, digest: digest, route: route)
        }
        return started
    }

    /// Writes the body to the spool while hashing it, then verifies size and digest before
    /// anything becomes visible: readers get the failure instead of unverified bytes' end, and
    /// only a verified blob is committed to the store (as an upload: durable, then recorded).
    private func pump(_ response: UpstreamDownload, into fetch: StartedFetch, digest: Digest, route: MirrorTable.Route) async {
        let label = clients[route.mirror].mirror.label
        var hasher = DigestHasher(digest.algorithm)
        var received: Int64 = 0
        do {
            do {
                // The buffers arrive whole from the event loop; each is written to the spool by
                // the disk's threads while the next is hashed here, so the download does not stop
                // for each write (at most one write in flight: the spool is appended in order).
                try await withThrowingTaskGroup(of: ByteBuffer.self) { writes in
                    var writing = false
                    while let buffer = try await response.body.next() {
                        received += Int64(buffer.readableBytes)
                        guard received <= fetch.size else {
                            throw UpstreamFailure.invalidContent(label, "blob \(digest) is longer than its Content-Length")
                        }
                        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                        if writing, let written = try await writes.next() { response.body.recycle(written) }
                        writes.addTask {
                            try await fetch.spool.append(buffer)
                            return buffer
                        }
                        writing = true
                    }
                    try await writes.waitForAll()
                }
            } catch let failure as UpstreamFailure {
                throw failure
            } catch {
                throw UpstreamFailure.unreachable(label, "download of \(digest) failed: \(error)")
            }
            metrics[route.mirror].upstreamBytes.increment(by: received)
            guard received == fetch.size else {
                throw UpstreamFailure.invalidContent(label, "blob \(digest) ended after \(received) of \(fetch.size) bytes")
            }
            let actual = hasher.finalize()
            guard actual == digest else {
                throw UpstreamFailure.invalidContent(label, "blob \(digest) hashed to \(actual)")
            }
            fetch.spool.finish(.success(()))
            // Hard-linked into a filesystem store: the bytes are not written a second time
            // while clients may still be reading them.
            _ = try await uploads.storeFile(at: fetch.spool.path, as: digest, size: fetch.size, in: route.localName)
        } catch {
            response.cancel()
            metrics[route.mirror].upstreamErrors.increment()
            logger.error("mirror download failed; nothing cached", metadata: ["digest": "\(digest)", "error": "\(error)"])
            fetch.spool.finish(.failure(error))
        }
        await fetches.end(digest)
        fetch.spool.remove()
    }
}
