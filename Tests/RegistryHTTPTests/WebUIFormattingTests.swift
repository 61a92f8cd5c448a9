import Foundation
import Mustache
import Testing

@testable import RegistryUI

/// The UI's own formatting and escaping, against what Foundation and the template library give
/// (they replaced those on the hot path of a list page).
@Suite struct WebUIFormattingTests {
    @Test func exactTimeAgreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func foundation(_ date: Date) -> String {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            return String(
                format: "%04d-%02d-%02d %02d:%02d:%02d UTC", parts.year!, parts.month!, parts.day!, parts.hour!,
                parts.minute!, parts.second!)
        }
        // Every day from 1969 to 2101 (leap years, centuries, the epoch), at varying times of day.
        var seconds: Int64 = -366 * 86400
        while seconds < 4_133_980_800 {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds) + 0.75)
            #expect(Format.exact(date) == foundation(date), "\(seconds)")
            seconds += 86400 + 3607
        }
        #expect(Format.exact(Date(timeIntervalSince1970: 1_764_688_568)) == "2025-12-02 15:16:08 UTC")
        #expect(Format.exact(Date(timeIntervalSince1970: -1)) == "1969-12-31 23:59:59 UTC")
        #expect(Format.exact(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29 00:00:00 UTC")
    }

    @Test func sizeAgreesWithPrintf() {
        func printf(_ bytes: Int64) -> String {
            if bytes < 1024 { return "\(bytes) B" }
            let units = ["KiB", "MiB", "GiB", "TiB"]
            var value = Double(bytes) / 1024
            var unit = 0
            while value >= 1024, unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
        }
        var samples: [Int64] = [0, 1, 1023, 1024, 1536, 1587, 10 * 1024 - 52, 10 * 1024 - 51, 10 * 1024, 10_752, 11_776, 1_048_575, 1_048_576]
        for shift in Int64(10)...Int64(52) {
            let base = Int64(1) << shift
            samples += [base - 1, base, base + 1, base + base / 20, base * 3 / 2, base * 5 / 4 + 1, base * 19 / 2]
        }
        var value: Int64 = 1000
        while value < (Int64(1) << 50) {
            samples.append(value)
            value = value * 37 / 31 + 7
        }
        for bytes in samples {
            #expect(Format.size(bytes) == printf(bytes), "\(bytes)")
        }
        #expect(Format.size(1536) == "1.5 KiB")
        #expect(Format.size(5 << 40) == "5.0 TiB")
    }

    @Test func urlEncodingAgreesWithFoundation() {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        for value in ["library/alpine", "v1.0_rc-2~x", "", "a b&c=d?e#f%g", "naïve/ünïcødé", "<script>\"'", "日本/イメージ"] {
            #expect(URLs.encode(value) == value.addingPercentEncoding(withAllowedCharacters: unreserved), "\(value)")
        }
    }

    @Test func escapingCoversWhatTheLibraryEscapes() throws {
        #expect(HTMLEscaping.escape("sha256:abc / 1.5 KiB") == "sha256:abc / 1.5 KiB")
        #expect(HTMLEscaping.escape(#"<script>alert("x")</script> & 'y'"#)
            == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;")
        #expect(HTMLEscaping.escape("naïve <b>") == "naïve &lt;b&gt;")

        // The library's own escaping, for comparison, through a template without our content type.
        let plain = try MustacheTemplate(string: "{{value}}")
        for value in ["<a href='x'>&amp;</a>", #""quoted""#, "plain", "ünïcødé <i>"] {
            #expect(HTMLEscaping.escape(value) == plain.render(["value": value]), "\(value)")
        }
    }

    /// A quote followed by a combining mark is one `Character`, which the library's escaping
    /// (a dictionary of `Character`s) passes through; a browser would end the attribute at the
    /// quote. Every page's templates use ``HTMLEscaping``, which escapes it.
    @Test func aQuoteWithACombiningMarkIsEscaped() throws {
        let hostile = "x\"\u{301} onmouseover=alert(1) \"\u{301}"
        #expect(!HTMLEscaping.escape(hostile).contains("\""))
        let library = try Templates.library()
        let row = RepositoriesPage.Row(
            name: hostile, url: "/u", tags: 1, size: "1 B", pushed: When(text: hostile, exact: hostile), mirror: hostile)
        let page = RepositoriesPage(
            chrome: Chrome(title: hostile, user: hostile, csrf: "t", offersSignIn: false), query: hostile, hasQuery: true,
            sort: "name", sortName: SortLink(url: "/", active: true, direction: "ascending"),
            sortPushed: SortLink(url: "/", active: false, direction: "descending"),
            sortSize: SortLink(url: "/", active: false, direction: "descending"), repositoryRows: row.html, hasRepositories: true,
            nextURL: nil, firstURL: nil)
        let html = try #require(library.render(page, withTemplate: "repositories"))
        let rawQuote = "\"\u{301}"
        let escapedQuote = "&quot;\u{301} onmouseover=alert(1)"
        #expect(!html.contains(rawQuote))
        #expect(html.contains(escapedQuote))
    }

    /// Rows built in Swift escape what they interpolate, as the template did.
    @Test func rowsEscapeTheirValues() {
        let hostile = "<img src=x onerror=alert(1)>\"'&"
        let when = When(text: hostile, exact: hostile)
        let rows = [
            RepositoriesPage.Row(name: hostile, url: hostile, tags: 1, size: hostile, pushed: when, mirror: hostile).html,
            RepositoryPage.Row(
                tag: hostile, imageURL: hostile, digest: hostile, shortDigest: hostile, kind: hostile, size: hostile,
                platforms: hostile, created: hostile, pushed: when, pulled: when, pullCommand: hostile, deleteURL: hostile
            ).html,
        ]
        for row in rows {
            #expect(!row.html.contains("<img"))
            #expect(!row.html.contains("'"))
            #expect(row.html.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"))
            #expect(row.html.components(separatedBy: "\"").count % 2 == 1, "attribute quotes pair up")
        }
    }

    /// A triple mustache shows its value unescaped: the templates use one only for the rows'
    /// ``HTMLText``, never for a string.
    @Test func tripleMustachesShowOnlyHTMLText() throws {
        let page = RepositoriesPage(
            chrome: Chrome(title: "t", user: nil, csrf: "c", offersSignIn: false), query: "", hasQuery: false, sort: "name",
            sortName: SortLink(url: "/", active: true, direction: "ascending"),
            sortPushed: SortLink(url: "/", active: false, direction: "descending"),
            sortSize: SortLink(url: "/", active: false, direction: "descending"), repositoryRows: HTMLText(),
            hasRepositories: false, nextURL: nil, firstURL: nil)
        let tagPage = RepositoryPage(
            mirror: nil, chrome: page.chrome, name: "n", deleted: nil, tagCount: 0, totalSize: "0 B", pushed: .never,
            pulled: .never, query: "", hasQuery: false, sort: "newest", sortNewest: page.sortName, sortName: page.sortName,
            tagRows: HTMLText(), hasTags: false, mayDelete: false, nextURL: nil, firstURL: nil)
        let pages: [String: Any] = ["repositories": page, "repository": tagPage]
        let pattern = try Regex(#"\{\{\{\s*([^}\s]+)\s*\}\}\}|\{\{&\s*([^}\s]+)"#)
        var seen = 0
        for (template, text) in Templates.all {
            for match in text.matches(of: pattern) {
                seen += 1
                let name = String(try #require(match.output[1].substring ?? match.output[2].substring))
                let model = try #require(pages[template], "\(template) shows {{{\(name)}}}")
                let field = Mirror(reflecting: model).children.first { $0.label == name }?.value
                #expect(field is HTMLText, "\(template): {{{\(name)}}} is \(type(of: field))")
            }
        }
        #expect(seen == 2)
    }
}
