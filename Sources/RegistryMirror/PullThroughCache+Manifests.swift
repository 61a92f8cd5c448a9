import AsyncHTTPClient
import Foundation
import NIOCore
import RegistryCore
import RegistryStorage

extension PullThroughCache {
    /// Every manifest type the registry stores, asked of the upstream in one `Accept`.
    static let manifestAccept = [
        MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest,
    ]

    public func manifest(_ reference: Reference, route: MirrorTable.Route) async throws -> StoredManifest {
        let metrics = self.metrics[route.mirror]
        let cached = try await metadata.manifest(reference, in: route.localName)
        switch reference {
        case .digest(let digest):
            // Content-addressed: once here, it is the same forever.
            if let cached {
                metrics.hits.increment()
                return cached
            }
            metrics.misses.increment()
            let fetched = try await fetchManifest(reference, route: route, expected: digest)
            return try await store(fetched, tag: nil, route: route)
        case .tag(let tag):
            if let cached, isFresh(tag, route: route) {
                metrics.hits.increment()
                return cached
            }
            do {
                if let cached, try await upstreamDigest(of: tag, route: route) == cached.digest {
                    confirm(tag, route: route)
                    metrics.hits.increment()
                    return cached
                }
                metrics.misses.increment()
                let fetched = try await fetchManifest(reference, route: route, expected: nil)
                let stored = try await store(fetched, tag: tag, route: route)
                confirm(tag, route: route)
                return stored
            } catch let failure as UpstreamFailure {
                guard case .unreachable = failure, let cached else { throw failure.registryError }
                logger.warning(
                    "serving a cached tag the upstream could not confirm",
                    metadata: ["repository": "\(route.localName)", "tag": "\(tag.value)", "error": "\(failure)"])
                metrics.hits.increment()
                return cached
            }
        }
    }

    /// The digest the upstream's tag names now (a HEAD: no body), or nil when the upstream
    /// does not say (then the manifest is fetched).
    private func upstreamDigest(of tag: Tag, route: MirrorTable.Route) async throws -> Digest? {
        let client = clients[route.mirror]
        let response = try await timed(route) {
            try await client.send(.HEAD, remoteName: route.remoteName, path: "manifests/\(tag.value)", accept: Self.manifestAccept)
        }
        await response.body.drain()
        try check(response, route: route, unknown: RegistryError(.manifestUnknown, "manifest unknown to the upstream registry", detail: "\(client.mirror.label): \(route.remoteName):\(tag.value)"))
        return response.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
    }

    /// GETs a manifest and validates it: its digest is the one asked for (by digest), the one
    /// the upstream announced (by tag), and the bytes parse as a manifest within the size limit.
    private func fetchManifest(_ reference: Reference, route: MirrorTable.Route, expected: Digest?) async throws -> Manifest {
        let client = clients[route.mirror]
        let label = client.mirror.label
        do {
            let response = try await timed(route) {
                try await client.send(.GET, remoteName: route.remoteName, path: "manifests/\(reference)", accept: Self.manifestAccept)
            }
            try check(response, route: route, unknown: RegistryError(.manifestUnknown, "manifest unknown to the upstream registry", detail: "\(label): \(route.remoteName):\(reference)"))
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > manifestSizeLimit {
                throw UpstreamFailure.invalidContent(label, "manifest of \(length) bytes is over the limit of \(manifestSizeLimit)")
            }
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: manifestSizeLimit)
            } catch is NIOTooManyBytesError {
                throw UpstreamFailure.invalidContent(label, "manifest is over the limit of \(manifestSizeLimit) bytes")
            } catch {
                throw UpstreamFailure.unreachable(label, "manifest body cut short: \(error)")
            }
            metrics[route.mirror].upstreamBytes.increment(by: Int64(body.readableBytes))
            let announced = response.headers.first(name: "Docker-Content-Digest").flatMap { try? Digest(parsing: $0) }
            let algorithm = expected?.algorithm ?? announced?.algorithm ?? .sha256
            let manifest: Manifest
            do {
                manifest = try Manifest(
                    bytes: Array(body.readableBytesView), contentType: response.headers.first(name: "Content-Type"),
                    algorithm: algorithm, maximumSize: manifestSizeLimit)
            } catch {
                throw UpstreamFailure.invalidContent(label, "manifest does not validate: \(error)")
            }
            for claimed in [expected, announced].compactMap({ $0 }) where claimed != manifest.digest {
                throw UpstreamFailure.invalidContent(label, "manifest digest is \(manifest.digest), expected \(claimed)")
            }
            return manifest
        } catch let failure as UpstreamFailure {
            metrics[route.mirror].upstreamErrors.increment()
            if case .unreachable = failure, expected == nil { throw failure }  // the tag path may fall back to its cache
            throw failure.registryError
        }
    }

    private func store(_ manifest: Manifest, tag: Tag?, route: MirrorTable.Route) async throws -> StoredManifest {
        try await metadata.putManifest(manifest.fetchingReferencesLater(), in: route.localName, tag: tag)
        return StoredManifest(
            digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes,
            subject: manifest.subject?.digest, artifactType: manifest.artifactType)
    }

    /// Turns an upstream's answer into a failure: 404 is `unknown` (the client's 404, naming the
    /// upstream), 401/403 a refusal, 5xx and anything else unexpected unreachability.
    func check(_ response: some UpstreamAnswer, route: MirrorTable.Route, unknown: RegistryError) throws {
        let label = clients[route.mirror].mirror.label
        switch response.status.code {
        case 200..<300: return
        case 404: throw unknown
        case 401, 403: throw UpstreamFailure.refused(label, "answered \(response.status.code)")
        case 429: throw UpstreamFailure.unreachable(label, "rate limited (429)")
        default: throw UpstreamFailure.unreachable(label, "answered \(response.status.code)")
        }
    }

    func timed<T>(_ route: MirrorTable.Route, _ work: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - start
            metrics[route.mirror].upstreamLatency.recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        return try await work()
    }
}
