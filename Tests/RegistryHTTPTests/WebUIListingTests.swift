import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RegistryCore
import RegistryService
import Testing

@testable import RegistryHTTP
@testable import RegistryUI

/// The web UI's lists: repositories with tag count, size and last push, sorted and paged;
/// a repository's tags newest first with push and pull times; pulls recorded by the API.
@Suite struct WebUIListingTests {
    /// The names of the rows of a page's table, in order.
    static func rows(_ html: String) -> [String] {
        html.components(separatedBy: "<tr data-name=\"").dropFirst().compactMap { $0.split(separator: "\"").first.map(String.init) }
    }

    @Test func theRepositoryListShowsCountsSizesAndPushTimesAndSorts() async throws {
        try await WebUITests.openRegistry().test { client in
            // "small" is pushed first with one tag; "big" later with three tags (three layers).
            try await pushImage(client, "small", tag: "v1")
            try await Task.sleep(for: .milliseconds(20))
            for tag in ["a", "b", "c"] { try await pushImage(client, "big", tag: tag) }
            try await pushBlob(client, "blobs-only", Array("just a blob".utf8))

            try await client.execute(uri: "/ui/", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == ["big", "blobs-only", "small"])
                #expect(body.contains("<tr data-name=\"big\"><td><a href=\"/ui/repository?name=big\">big</a></td><td class=\"num\">3</td>"))
                #expect(body.contains("<tr data-name=\"blobs-only\"><td><a href=\"/ui/repository?name=blobs-only\">blobs-only</a></td><td class=\"num\">0</td><td class=\"num\">11 B</td><td><time title=\"never\">—</time>"))
                #expect(body.contains("just now"))
                #expect(body.contains("aria-sort=\"ascending\"><a href=\"/ui/?q=&amp;sort=name\" id=\"sort-name\""))
            }
            try await client.execute(uri: "/ui/?sort=pushed", method: .get) { response in
                #expect(Self.rows(String(buffer: response.body)) == ["big", "small", "blobs-only"])
            }
            try await client.execute(uri: "/ui/?sort=size", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == ["big", "small", "blobs-only"])
                #expect(body.contains("aria-sort=\"descending\"><a href=\"/ui/?q=&amp;sort=size\" id=\"sort-size\""))
            }
            try await client.execute(uri: "/ui/?sort=size&q=S", method: .get) { response in
                #expect(Self.rows(String(buffer: response.body)) == ["small", "blobs-only"])
            }
            // An unknown order falls back to names.
            try await client.execute(uri: "/ui/?sort=%3Cscript%3E", method: .get) { response in
                #expect(response.status == .ok)
                #expect(Self.rows(String(buffer: response.body)) == ["big", "blobs-only", "small"])
            }
        }
    }

    @Test func sortedRepositoryPagesFollowTheirCursor() async throws {
        try await WebUITests.openRegistry().test { client in
            // 55 repositories, each pushed after the one before: newest first is reverse order.
            for index in 0..<55 { try await pushImage(client, String(format: "repo%02d", index), tag: "v1") }
            var next: String?
            try await client.execute(uri: "/ui/?sort=pushed", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == (5..<55).reversed().map { String(format: "repo%02d", $0) })
                next = Self.nextLink(body)
            }
            let link = try #require(next)
            #expect(link.contains("sort=pushed") && link.contains("last=repo05") && link.contains("at="))
            try await client.execute(uri: link, method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == ["repo04", "repo03", "repo02", "repo01", "repo00"])
                #expect(Self.nextLink(body) == nil)
                #expect(body.contains("First page"))
            }
        }
    }

    @Test func aRepositoryPageListsTagsNewestFirstWithPushAndPullTimes() async throws {
        try await WebUITests.openRegistry().testWithService { client, service in
            for tag in ["old", "middle", "new"] {
                try await pushImage(client, "team/app", tag: tag)
                try await Task.sleep(for: .milliseconds(20))
            }
            try await client.execute(uri: "/ui/repository?name=team/app", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == ["new", "middle", "old"])
                #expect(body.contains("<dd id=\"tag-count\">3</dd>"))
                #expect(body.contains("<time title=\"never\" id=\"last-pull\">—</time>"))
                #expect(body.contains("id=\"sort-newest\" aria-current=\"true\""))
            }
            try await client.execute(uri: "/ui/repository?name=team/app&sort=name", method: .get) { response in
                #expect(Self.rows(String(buffer: response.body)) == ["middle", "new", "old"])
            }
            try await client.execute(uri: "/ui/repository?name=team/app&q=D", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(Self.rows(body) == ["middle", "old"])
                #expect(body.contains("value=\"D\""))
            }
            try await client.execute(uri: "/ui/repository?name=team/app&q=nothing", method: .get) { response in
                #expect(String(buffer: response.body).contains("No tag whose name contains “nothing”."))
            }

            // A GET by tag is a pull; a HEAD is not. Nothing is written until the recorder flushes.
            let accept: HTTPFields = [.accept: "application/vnd.oci.image.manifest.v1+json"]
            try await client.execute(uri: "/v2/team/app/manifests/old", method: .head, headers: accept) { #expect($0.status == .ok) }
            #expect(service.pulls.pendingCount == 0)
            try await client.execute(uri: "/v2/team/app/manifests/middle", method: .get, headers: accept) {
                #expect($0.status == .ok)
            }
            #expect(service.pulls.pendingCount == 1)
            let before = try #require(try await service.metadata.repositorySummary(try RepositoryName("team/app")))
            #expect(before.pulledAt == nil)
            try await service.pulls.flush()
            #expect(service.pulls.pendingCount == 0)
            try await client.execute(uri: "/ui/repository?name=team/app", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(!body.contains("<time title=\"never\" id=\"last-pull\">"))
                let cells = Self.pulledCells(body)
                #expect(cells["middle"] == "just now")
                #expect(cells["old"] == "—")
                #expect(cells["new"] == "—")
            }
        }
    }

    @Test func aPullByDigestShowsOnTheTagsThatNameIt() async throws {
        try await WebUITests.openRegistry().testWithService { client, service in
            let digest = try await pushImage(client, "team/app", tag: "v1")
            try await client.execute(uri: "/v2/team/app/manifests/\(digest)", method: .get) { #expect($0.status == .ok) }
            try await service.pulls.flush()
            try await client.execute(uri: "/ui/repository?name=team/app", method: .get) { response in
                #expect(Self.pulledCells(String(buffer: response.body))["v1"] == "just now")
            }
        }
    }

    @Test func inReadOnlyModePullsAreNotRecorded() async throws {
        var registry = WebUITests.openRegistry()
        _ = try await registry.testWithService { client, _ in try await pushImage(client, "team/app", tag: "v1") }
        registry.configuration.storage.readOnly = true
        try await registry.testWithService { client, service in
            try await client.execute(uri: "/v2/team/app/manifests/v1", method: .get) { #expect($0.status == .ok) }
            #expect(service.pulls.pendingCount == 0)
        }
    }

    /// The `href` of the "Next page" link, unescaped; nil when there is none.
    static func nextLink(_ html: String) -> String? {
        guard let end = html.range(of: "\" rel=\"next\" id=\"next-page\"") else { return nil }
        let before = html[..<end.lowerBound]
        guard let start = before.range(of: "<a href=\"", options: .backwards) else { return nil }
        return String(before[start.upperBound...]).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Each tag row's "Pulled" cell text, by tag.
    static func pulledCells(_ html: String) -> [String: String] {
        var cells: [String: String] = [:]
        for row in html.components(separatedBy: "<tr data-name=\"").dropFirst() {
            guard let name = row.split(separator: "\"").first,
                let cell = row.components(separatedBy: "<td class=\"pulled\"><time title=\"").dropFirst().first,
                let open = cell.firstIndex(of: ">")
            else { continue }
            cells[String(name)] = String(cell[cell.index(after: open)...].prefix { $0 != "<" })
        }
        return cells
    }
}

/// The rows that answer Mustache by name (for speed) answer every field Mirror would find.
@Suite struct PageModelLookupTests {
    static func check(_ value: any MustacheParentLike) {
        for child in Mirror(reflecting: value).children {
            guard let label = child.label else { continue }
            let answered = value.answer(label)
            let field = Mirror(reflecting: child.value)
            let unwrapped: Any? = field.displayStyle == .optional ? field.children.first?.value : child.value
            #expect(answered.map { "\($0)" } == unwrapped.map { "\($0)" }, "\(type(of: value)).\(label)")
        }
    }

    @Test func valuesAnswerEveryField() {
        Self.check(When(text: "just now", exact: "2026-12-02 15:00:00 UTC"))
        Self.check(SortLink(url: "/s", active: true, direction: "ascending"))
    }

    @Test func listPagesAnswerEveryField() {
        let when = When(text: "just now", exact: "2026-12-02 15:00:00 UTC")
        let link = SortLink(url: "/s", active: false, direction: "descending")
        let row = RepositoriesPage.Row(name: "a", url: "/u", tags: 3, size: "1 KiB", pushed: when, mirror: "https://up")
        for user in ["alice", nil] {
            Self.check(Chrome(title: "t", user: user, csrf: "c", offersSignIn: user == nil))
        }
        for next in ["/n", nil] {
            Self.check(
                RepositoriesPage(
                    chrome: Chrome(title: "t", user: nil, csrf: "c", offersSignIn: false), query: "q", hasQuery: true,
                    sort: "name", sortName: link, sortPushed: link, sortSize: link, repositoryRows: row.html,
                    hasRepositories: true, nextURL: next, firstURL: next))
            Self.check(
                RepositoryPage(
                    mirror: next, chrome: Chrome(title: "t", user: "u", csrf: "c", offersSignIn: false), name: "n",
                    deleted: next, tagCount: 2, totalSize: "2 B", pushed: when, pulled: .never, query: "", hasQuery: false,
                    sort: "newest", sortNewest: link, sortName: link, tagRows: HTMLText(), hasTags: false, mayDelete: true,
                    nextURL: next, firstURL: next))
        }
    }
}

protocol MustacheParentLike {
    func answer(_ name: String) -> Any?
}

extension When: MustacheParentLike { func answer(_ name: String) -> Any? { child(named: name) } }
extension SortLink: MustacheParentLike { func answer(_ name: String) -> Any? { child(named: name) } }
extension Chrome: MustacheParentLike { func answer(_ name: String) -> Any? { child(named: name) } }
extension RepositoriesPage: MustacheParentLike { func answer(_ name: String) -> Any? { child(named: name) } }
extension RepositoryPage: MustacheParentLike { func answer(_ name: String) -> Any? { child(named: name) } }
