/// What the templates render. Plain values: Mustache reads them by reflection (the list pages
/// answer by name, see PageModels+Lookup.swift), and every string in them is escaped when
/// rendered.
struct Chrome {
    var title: String
    var user: String?
    var csrf: String
    /// True with htpasswd and nobody signed in: the header links to the sign-in form.
    var offersSignIn: Bool
}

struct KeyValue {
    var key: String
    var value: String
}

/// A column heading that sorts the list by it.
struct SortLink {
    var url: String
    var active: Bool
    /// `ascending` or `descending`, for `aria-sort` on the active column.
    var direction: String
}

/// A time shown as "5 min ago", with the exact UTC time as its title.
struct When {
    var text: String
    var exact: String

    static let never = When(text: "—", exact: "never")
}

struct RepositoriesPage {
    struct Row {
        var name: String
        var url: String
        var tags: Int
        var size: String
        var pushed: When
        /// The upstream URL of a mirrored repository (shown as a "mirror" mark).
        var mirror: String?
    }

    var chrome: Chrome
    var query: String
    var hasQuery: Bool
    var sort: String
    var sortName: SortLink
    var sortPushed: SortLink
    var sortSize: SortLink
    /// The rows' markup (``RepositoriesPage/Row/html``).
    var repositoryRows: HTMLText
    var hasRepositories: Bool
    var nextURL: String?
    var firstURL: String?
}

struct RepositoryPage {
    /// The upstream URL when the repository is a mirror (pull-through cache).
    var mirror: String?

    struct Row {
        var tag: String
        var imageURL: String
        var digest: String
        var shortDigest: String
        var kind: String
        var size: String
        var platforms: String
        var created: String
        var pushed: When
        var pulled: When
        var pullCommand: String
        var deleteURL: String?
    }

    var chrome: Chrome
    var name: String
    var deleted: String?
    var tagCount: Int
    var totalSize: String
    var pushed: When
    var pulled: When
    var query: String
    var hasQuery: Bool
    var sort: String
    var sortNewest: SortLink
    var sortName: SortLink
    /// The rows' markup (``RepositoryPage/Row/html``).
    var tagRows: HTMLText
    var hasTags: Bool
    var mayDelete: Bool
    var nextURL: String?
    var firstURL: String?
}

struct ImagePage {
    struct Child {
        var platform: String
        var url: String
        var shortDigest: String
        var mediaType: String
        var size: String
    }

    struct Layer {
        var step: Int
        var digest: String
        var shortDigest: String
        var mediaType: String
        var size: String
    }

    struct HistoryRow {
        var step: Int
        var when: String
        var command: String
        var note: String?
        var empty: Bool
    }

    struct Config {
        var platformText: String?
        var createdText: String?
        var userText: String?
        var entrypointText: String?
        var cmdText: String?
        var workingDirText: String?
        var portsText: String?
        var env: [String]
        var hasEnv: Bool
        var labels: [KeyValue]
        var hasLabels: Bool
        var history: [HistoryRow]
        var hasHistory: Bool
    }

    struct Referrer {
        var url: String
        var shortDigest: String
        var mediaType: String
        var size: String
        var annotations: String
    }

    struct ReferrerGroup {
        var artifactType: String
        var items: [Referrer]
    }

    var chrome: Chrome
    var name: String
    var repositoryURL: String
    var separator: String
    var reference: String
    var digest: String
    var mediaType: String
    var artifactType: String?
    var totalSize: String
    var pullCommand: String
    var deleteURL: String?
    var children: [Child]
    var hasChildren: Bool
    var config: Config?
    var layers: [Layer]
    var hasLayers: Bool
    var annotations: [KeyValue]
    var hasAnnotations: Bool
    var referrerGroups: [ReferrerGroup]
    var hasReferrers: Bool
    var manifestJSON: String
    var configJSON: String?
}

struct StatusPage {
    struct Check {
        var name: String
        var result: String
    }

    struct Totals {
        var repositories: Int
        var tags: Int
        var manifests: Int
        var blobs: Int
        var blobBytes: String
        var uploads: Int
        var lastGC: String
    }

    var chrome: Chrome
    var healthy: Bool
    var checks: [Check]
    var version: String
    var uptime: String
    var totals: Totals?
}

struct LoginPage {
    var chrome: Chrome
    var error: String?
    var next: String
}

struct DeletePage {
    var chrome: Chrome
    var name: String
    var repositoryURL: String
    var reference: String
    var what: String
    var explanation: String
    var backURL: String
}

struct MessagePage {
    var chrome: Chrome
    var heading: String
    var text: String
    /// `ok`, `error` or empty.
    var kind: String
    var link: String?
    var linkText: String?
}
