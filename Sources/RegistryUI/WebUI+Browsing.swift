import Foundation
import Hummingbird
import RegistryCore
import RegistryService
import RegistryStorage

/// The repositories list, a repository's tags, and the image page.
extension WebUI {
    func repositories(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let query = String(request.uri.queryParameters["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let last = request.uri.queryParameters["last"].map(String.init)
        let found = try await service.searchRepositories(
            containing: query, page: PageRequest(size: Self.pageSize, last: last), visible: { visitor.mayPull($0) })
        var rows: [RepositoriesPage.Row] = []
        for name in found.names {
            var count = 0
            if let repository = try? RepositoryName(name) { count = (try? await service.tagCount(in: repository)) ?? 0 }
            rows.append(.init(name: name, url: URLs.repository(name), tags: count))
        }
        let base = "/ui/?q=" + URLs.encode(query)
        let page = RepositoriesPage(
            chrome: chrome("Repositories", visitor), query: query, hasQuery: !query.isEmpty, repositories: rows,
            hasRepositories: !rows.isEmpty, nextURL: found.next.map { base + "&last=" + URLs.encode($0) },
            firstURL: last == nil ? nil : base)
        return render(page, "repositories")
    }

    func repository(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let name = try readableRepository(request, visitor)
        let last = request.uri.queryParameters["last"].map(String.init)
        let (details, next) = try await service.tagDetails(in: name, page: PageRequest(size: Self.pageSize, last: last))
        let host = pullHost(request)
        let mayDelete = visitor.mayDelete(name.value)
        var rows: [RepositoryPage.Row] = []
        for detail in details {
            let summary = await summarize(detail.manifest, in: name)
            rows.append(
                .init(
                    tag: detail.tag, imageURL: URLs.image(name.value, detail.tag),
                    digest: detail.manifest.digest.description,
                    shortDigest: Format.shortDigest(detail.manifest.digest.description), kind: summary.kind,
                    size: summary.size.map(Format.size) ?? "—", platforms: summary.platforms,
                    created: summary.created ?? "—", pullCommand: "docker pull \(host)/\(name.value):\(detail.tag)",
                    deleteURL: mayDelete ? URLs.delete(name.value, detail.tag) : nil))
        }
        let deleted = request.uri.queryParameters["deleted"].map(String.init)
        let page = RepositoryPage(
            chrome: chrome(name.value, visitor), name: name.value, deleted: deleted, tags: rows, hasTags: !rows.isEmpty,
            mayDelete: mayDelete,
            nextURL: next.map { URLs.repository(name.value) + "&last=" + URLs.encode($0) })
        return render(page, "repository")
    }

    /// What the tag list shows of a manifest: its kind, the size of what it pulls, the
    /// platforms of an index, and the creation time from an image's config.
    private func summarize(_ stored: StoredManifest, in repository: RepositoryName) async -> (
        kind: String, size: Int64?, platforms: String, created: String?
    ) {
        let kind = Format.kind(mediaType: stored.mediaType, artifactType: stored.artifactType)
        guard let manifest = try? Manifest(bytes: stored.bytes, contentType: stored.mediaType, maximumSize: .max) else {
            return (kind, nil, "", nil)
        }
        if kind == "index" {
            let index = try? JSONDecoder().decode(IndexDocument.self, from: Data(stored.bytes))
            let platforms = (index?.manifests ?? []).compactMap { $0.platform?.text }.filter { !$0.isEmpty }
            let size = manifest.children.reduce(Int64(0)) { $0 + $1.size }
            return (kind, size, platforms.joined(separator: ", "), nil)
        }
        let size = manifest.layers.reduce(manifest.config?.size ?? 0) { $0 + $1.size }
        var created: String?
        var platform = ""
        if let config = manifest.config, let bytes = try? await service.smallBlob(config.digest, in: repository, limit: 256 * 1024),
            let document = try? JSONDecoder().decode(ImageConfigDocument.self, from: Data(bytes))
        {
            created = Format.time(document.created)
            platform = [document.os, document.architecture, document.variant].compactMap { $0 }.joined(separator: "/")
        }
        return (kind, size, platform, created)
    }

    func image(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let name = try readableRepository(request, visitor)
        let reference = String(request.uri.queryParameters["ref"] ?? "")
        let stored = try await service.manifest(reference, in: name)
        let manifest = try Manifest(bytes: stored.bytes, contentType: stored.mediaType, maximumSize: .max)
        let isDigest = reference.contains(":")
        let host = pullHost(request)

        var children: [ImagePage.Child] = []
        if !manifest.children.isEmpty {
            let index = try? JSONDecoder().decode(IndexDocument.self, from: Data(stored.bytes))
            for child in index?.manifests ?? [] {
                children.append(
                    .init(
                        platform: child.platform?.text ?? child.artifactType ?? "—", url: URLs.image(name.value, child.digest),
                        shortDigest: Format.shortDigest(child.digest), mediaType: child.mediaType ?? "",
                        size: child.size.map(Format.size) ?? "—"))
            }
        }

        var config: ImagePage.Config?
        var configJSON: String?
        if let descriptor = manifest.config,
            let bytes = try await service.smallBlob(descriptor.digest, in: name, limit: Self.configLimit)
        {
            configJSON = Format.prettyJSON(bytes)
            if descriptor.mediaType?.contains("image.config") == true || descriptor.mediaType?.contains("container.image") == true,
                let document = try? JSONDecoder().decode(ImageConfigDocument.self, from: Data(bytes))
            {
                config = Self.configModel(document)
            }
        }

        let layers = manifest.layers.enumerated().map { step, layer in
            ImagePage.Layer(
                step: step + 1, digest: layer.digest.description, shortDigest: Format.shortDigest(layer.digest.description),
                mediaType: layer.mediaType ?? "", size: Format.size(layer.size))
        }
        let total =
            manifest.children.isEmpty
            ? manifest.layers.reduce(manifest.config?.size ?? 0) { $0 + $1.size }
            : manifest.children.reduce(Int64(0)) { $0 + $1.size }

        let referrers = try await service.referrers(of: stored.digest.description, in: name, artifactType: nil)
        var groups: [String: [ImagePage.Referrer]] = [:]
        for referrer in referrers {
            let type = referrer.artifactType ?? referrer.mediaType ?? "unknown"
            let annotations = referrer.annotations.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            groups[type, default: []].append(
                .init(
                    url: URLs.image(name.value, referrer.digest.description),
                    shortDigest: Format.shortDigest(referrer.digest.description), mediaType: referrer.mediaType ?? "",
                    size: Format.size(referrer.size), annotations: annotations.joined(separator: ", ")))
        }
        let referrerGroups = groups.sorted { $0.key < $1.key }.map { ImagePage.ReferrerGroup(artifactType: $0.key, items: $0.value) }
        let annotations = manifest.annotations.sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }

        let page = ImagePage(
            chrome: chrome("\(name.value)\(isDigest ? "@" : ":")\(reference)", visitor), name: name.value,
            repositoryURL: URLs.repository(name.value), separator: isDigest ? "@" : ":", reference: reference,
            digest: stored.digest.description, mediaType: stored.mediaType,
            artifactType: Format.isImageConfig(manifest.artifactType) ? nil : manifest.artifactType,
            totalSize: Format.size(total),
            pullCommand: "docker pull \(host)/\(name.value)\(isDigest ? "@" : ":")\(reference)",
            deleteURL: visitor.mayDelete(name.value) ? URLs.delete(name.value, stored.digest.description) : nil,
            children: children, hasChildren: !children.isEmpty, config: config, layers: layers, hasLayers: !layers.isEmpty,
            annotations: annotations, hasAnnotations: !annotations.isEmpty, referrerGroups: referrerGroups,
            hasReferrers: !referrerGroups.isEmpty, manifestJSON: Format.prettyJSON(stored.bytes), configJSON: configJSON)
        return render(page, "image")
    }

    static func configModel(_ document: ImageConfigDocument) -> ImagePage.Config {
        let inner = document.config
        let platform = [document.os, document.architecture, document.variant].compactMap { $0 }.filter { !$0.isEmpty }
        let history = (document.history ?? []).enumerated().map { step, entry in
            ImagePage.HistoryRow(
                step: step + 1, when: Format.time(entry.created) ?? "", command: entry.created_by ?? "",
                note: entry.comment.flatMap { $0.isEmpty ? nil : $0 }, empty: entry.empty_layer ?? false)
        }
        let labels = (inner?.Labels ?? [:]).sorted { $0.key < $1.key }.map { KeyValue(key: $0.key, value: $0.value) }
        let env = inner?.Env ?? []
        func words(_ list: [String]?) -> String? {
            guard let list, !list.isEmpty else { return nil }
            return list.joined(separator: " ")
        }
        func nonEmpty(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        return ImagePage.Config(
            platformText: platform.isEmpty ? nil : platform.joined(separator: "/"), createdText: Format.time(document.created),
            userText: nonEmpty(inner?.User), entrypointText: words(inner?.Entrypoint), cmdText: words(inner?.Cmd),
            workingDirText: nonEmpty(inner?.WorkingDir), portsText: words(inner?.ExposedPorts.map { $0.keys.sorted() }),
            env: env, hasEnv: !env.isEmpty, labels: labels, hasLabels: !labels.isEmpty, history: history,
            hasHistory: !history.isEmpty)
    }
}
