import Foundation
import Hummingbird
import RegistryCore
import RegistryService
import RegistryStorage

/// The repositories list, a repository's tags, and the image page.
extension WebUI {
    func repositories(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let query = Self.filter(request)
        let order = request.uri.queryParameters["sort"].flatMap { RepositoryOrder(rawValue: String($0)) } ?? .name
        let cursor = PageLinks.cursor(request)
        let found = try await service.repositorySummaries(
            containing: query, order: order, after: cursor, size: Self.pageSize, visible: { visitor.mayPull($0) })
        let now = Date()
        let rows = found.items.map { summary in
            RepositoriesPage.Row(
                name: summary.name, url: URLs.repository(summary.name), tags: summary.tagCount,
                size: Format.size(summary.size), pushed: Format.when(summary.pushedAt, now: now),
                mirror: service.mirrorUpstream(of: summary.name))
        }
        func sorted(_ candidate: RepositoryOrder) -> String {
            "/ui/?q=" + URLs.encode(query) + "&sort=" + candidate.rawValue
        }
        func link(_ candidate: RepositoryOrder) -> SortLink {
            SortLink(
                url: sorted(candidate), active: candidate == order, direction: candidate == .name ? "ascending" : "descending")
        }
        let base = sorted(order)
        let page = RepositoriesPage(
            chrome: chrome("Repositories", visitor), query: query, hasQuery: !query.isEmpty, sort: order.rawValue,
            sortName: link(.name), sortPushed: link(.pushed), sortSize: link(.size), repositoryRows: rows.map(\.html).joined(),
            hasRepositories: !rows.isEmpty, nextURL: found.next.map { base + PageLinks.query($0, key: .init(order)) },
            firstURL: cursor == nil ? nil : base)
        return render(page, "repositories")
    }

    func repository(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let name = try readableRepository(request, visitor)
        let query = Self.filter(request)
        let order = request.uri.queryParameters["sort"].flatMap { TagOrder(rawValue: String($0)) } ?? .newest
        let cursor = PageLinks.cursor(request)
        let summary = try await service.repositorySummary(name)
        let found = try await service.tagSummaries(
            in: name, containing: query, order: order, after: cursor, size: Self.pageSize)
        let host = pullHost(request)
        // Nobody deletes from a mirror: its upstream owns the content.
        let mayDelete = visitor.mayDelete(name.value) && service.mirrorUpstream(of: name.value) == nil
        let now = Date()
        var rows: [RepositoryPage.Row] = []
        for tag in found.items {
            let shown = await summarize(tag.manifest, in: name)
            let pulled = [tag.pulledAt, tag.manifestPulledAt].compactMap { $0 }.max()
            rows.append(
                .init(
                    tag: tag.name, imageURL: URLs.image(name.value, tag.name), digest: tag.manifest.digest.description,
                    shortDigest: Format.shortDigest(tag.manifest.digest.description), kind: shown.kind,
                    size: shown.size.map(Format.size) ?? "—", platforms: shown.platforms, created: shown.created ?? "—",
                    pushed: Format.when(tag.pushedAt, now: now), pulled: Format.when(pulled, now: now),
                    pullCommand: "docker pull \(host)/\(name.value):\(tag.name)",
                    deleteURL: mayDelete ? URLs.delete(name.value, tag.name) : nil))
        }
        func sorted(_ candidate: TagOrder) -> String {
            URLs.repository(name.value) + "&q=" + URLs.encode(query) + "&sort=" + candidate.rawValue
        }
        func link(_ candidate: TagOrder) -> SortLink {
            SortLink(
                url: sorted(candidate), active: candidate == order, direction: candidate == .name ? "ascending" : "descending")
        }
        let base = sorted(order)
        let deleted = request.uri.queryParameters["deleted"].map(String.init)
        let page = RepositoryPage(
            mirror: service.mirrorUpstream(of: name.value), chrome: chrome(name.value, visitor), name: name.value, deleted: deleted, tagCount: summary.tagCount,
            totalSize: Format.size(summary.size), pushed: Format.when(summary.pushedAt, now: now),
            pulled: Format.when(summary.pulledAt, now: now), query: query, hasQuery: !query.isEmpty, sort: order.rawValue,
            sortNewest: link(.newest), sortName: link(.name), tagRows: rows.map(\.html).joined(), hasTags: !rows.isEmpty, mayDelete: mayDelete,
            nextURL: found.next.map { base + PageLinks.query($0, key: .init(order)) },
            firstURL: cursor == nil ? nil : base)
        return render(page, "repository")
    }

    /// The `q` filter, trimmed and at most 256 characters (no name is longer).
    static func filter(_ request: Request) -> String {
        String(String(request.uri.queryParameters["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(256))
    }

    /// What the tag list shows of a manifest: its kind, the size of what it pulls, the
    /// platforms of an index, and the creation time from an image's config. Remembered per
    /// repository and digest once complete (a config that could not be read is tried again).
    private func summarize(_ stored: StoredManifest, in repository: RepositoryName) async -> ManifestSummaries.Summary {
        if let known = summaries.summary(of: stored.digest, in: repository) { return known }
        let kind = Format.kind(mediaType: stored.mediaType, artifactType: stored.artifactType)
        guard let manifest = try? Manifest(bytes: stored.bytes, contentType: stored.mediaType, maximumSize: .max) else {
            return .init(kind: kind, size: nil, platforms: "", created: nil)
        }
        if kind == "index" {
            let index = try? JSONDecoder().decode(IndexDocument.self, from: Data(stored.bytes))
            let platforms = (index?.manifests ?? []).compactMap { $0.platform?.text }.filter { !$0.isEmpty }
            let size = manifest.children.reduce(Int64(0)) { $0 + $1.size }
            return remembered(.init(kind: kind, size: size, platforms: platforms.joined(separator: ", "), created: nil))
        }
        let size = manifest.layers.reduce(manifest.config?.size ?? 0) { $0 + $1.size }
        guard let config = manifest.config else {
            return remembered(.init(kind: kind, size: size, platforms: "", created: nil))
        }
        guard let bytes = try? await service.smallBlob(config.digest, in: repository, limit: 256 * 1024),
            let document = try? JSONDecoder().decode(ImageConfigDocument.self, from: Data(bytes))
        else { return .init(kind: kind, size: size, platforms: "", created: nil) }
        let platform = [document.os, document.architecture, document.variant].compactMap { $0 }.joined(separator: "/")
        return remembered(.init(kind: kind, size: size, platforms: platform, created: Format.time(document.created)))

        func remembered(_ summary: ManifestSummaries.Summary) -> ManifestSummaries.Summary {
            summaries.remember(summary, of: stored.digest, in: repository)
            return summary
        }
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
