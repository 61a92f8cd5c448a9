import Foundation
import RegistryCore

/// The storage tree of Distribution's filesystem driver (`registry:2`), read only:
///
/// ```
/// <root>/docker/registry/v2/blobs/sha256/<2 hex>/<hex>/data
/// <root>/docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link
/// <root>/docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link
/// <root>/docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
/// ```
///
/// A `link` file holds a digest (`sha256:<hex>`). Malformed links and names are reported by
/// the importer, never trusted.
public struct DistributionTree: Sendable {
    /// The `v2` folder.
    public let base: String

    /// Accepts Distribution's `rootdirectory` (holding `docker/registry/v2`) or the `v2`
    /// folder itself.
    public init(root: String) throws {
        let candidates = [root + "/docker/registry/v2", root]
        guard let base = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/repositories")
            || FileManager.default.fileExists(atPath: $0 + "/blobs") })
        else {
            throw RegistryError(
                .unknown, "not a Distribution storage tree: no docker/registry/v2/repositories or blobs under \(root)")
        }
        self.base = base
    }

    public func blobPath(_ digest: Digest) -> String {
        "\(base)/blobs/\(digest.algorithm.rawValue)/\(digest.hex.prefix(2))/\(digest.hex)/data"
    }

    /// Every repository: a folder under `repositories` with `_manifests` or `_layers`.
    public func repositories() throws -> [String] {
        let top = base + "/repositories"
        guard let walker = FileManager.default.enumerator(atPath: top) else { return [] }
        var names: [String] = []
        while let path = walker.nextObject() as? String {
            let last = (path as NSString).lastPathComponent
            if last == "_manifests" || last == "_layers" || last == "_uploads" {
                walker.skipDescendants()
                if last != "_uploads" {
                    let name = (path as NSString).deletingLastPathComponent
                    if names.last != name { names.append(name) }
                }
            }
        }
        return Array(Set(names)).sorted()
    }

    /// Digests linked as layers (and configs) of a repository; bad links as text.
    public func layers(of repository: String) -> (digests: [Digest], bad: [String]) {
        links(under: "\(base)/repositories/\(repository)/_layers")
    }

    /// Digests of the manifests pushed to a repository.
    public func revisions(of repository: String) -> (digests: [Digest], bad: [String]) {
        links(under: "\(base)/repositories/\(repository)/_manifests/revisions")
    }

    /// Tags and the digests their `current/link` names (nil for an unreadable link).
    public func tags(of repository: String) -> [(tag: String, digest: Digest?)] {
        let folder = "\(base)/repositories/\(repository)/_manifests/tags"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.sorted().map { name in (name, readLink("\(folder)/\(name)/current/link")) }
    }

    private func links(under folder: String) -> ([Digest], [String]) {
        var digests: [Digest] = []
        var bad: [String] = []
        for algorithm in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            for hex in (try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(algorithm)")) ?? [] {
                let path = "\(folder)/\(algorithm)/\(hex)/link"
                if let digest = readLink(path) { digests.append(digest) } else { bad.append(path) }
            }
        }
        return (digests.sorted(), bad)
    }

    private func readLink(_ path: String) -> Digest? {
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        return try? Digest(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
