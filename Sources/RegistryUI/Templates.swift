import Mustache

/// The UI's pages as Mustache templates, compiled once at start. `{{x}}` escapes HTML (and
/// quotes, so attributes are safe too), because names, labels, history and annotations come
/// from images and may hold markup. Triple mustaches show only ``HTMLText`` (the rows of the
/// long lists, built in Swift with every value escaped), never a string.
enum Templates {
    /// Every template (the partials too: the library renders a partial with its default HTML
    /// escaping unless the partial names a content type itself) starts by choosing
    /// ``HTMLEscaping``.
    static func library() throws -> MustacheLibrary {
        MustacheContentTypes.register(HTMLEscaping(), named: HTMLEscaping.name)
        var library = MustacheLibrary()
        for (name, text) in all { try library.register("{{% CONTENT_TYPE: \(HTMLEscaping.name)}}" + text, named: name) }
        return library
    }

    static let all: [(String, String)] = [
        ("header", header), ("footer", footer), ("repositories", repositories), ("repository", repository),
        ("image", image), ("status", status), ("login", login), ("delete", delete), ("message", message),
    ]

    static let header = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{chrome.title}} · Berth</title>
        <link rel="stylesheet" href="/ui/static/berth.css">
        <script src="/ui/static/berth.js" defer></script>
        </head>
        <body>
        <header class="top">
        <a class="brand" href="/ui/">Berth</a>
        <nav aria-label="Main"><a href="/ui/">Repositories</a><a href="/ui/status">Status</a></nav>
        {{#chrome.user}}<span class="muted">Signed in as <strong id="signed-in-user">{{chrome.user}}</strong></span>
        <form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{chrome.csrf}}"><button type="submit" class="link" id="sign-out">Sign out</button></form>{{/chrome.user}}
        {{^chrome.user}}{{#chrome.offersSignIn}}<a href="/ui/login" id="sign-in">Sign in</a>{{/chrome.offersSignIn}}{{/chrome.user}}
        </header>
        <main>

        """

    static let footer = """
        </main>
        </body>
        </html>

        """

    static let repositories = """
        {{> header}}
        <h1>Repositories</h1>
        <form class="toolbar" method="get" action="/ui/" role="search">
        <input type="search" name="q" value="{{query}}" placeholder="Filter repositories" aria-label="Filter repositories" data-filter="repositories" id="filter" autocomplete="off">
        <input type="hidden" name="sort" value="{{sort}}">
        <button type="submit">Search</button>
        </form>
        {{#hasRepositories}}
        <table id="repositories" data-sort="{{sort}}">
        <thead><tr>
        <th{{#sortName.active}} aria-sort="{{sortName.direction}}"{{/sortName.active}}><a href="{{sortName.url}}" id="sort-name">Name</a></th>
        <th class="num">Tags</th>
        <th class="num"{{#sortSize.active}} aria-sort="{{sortSize.direction}}"{{/sortSize.active}}><a href="{{sortSize.url}}" id="sort-size">Size</a></th>
        <th{{#sortPushed.active}} aria-sort="{{sortPushed.direction}}"{{/sortPushed.active}}><a href="{{sortPushed.url}}" id="sort-pushed">Last push</a></th>
        </tr></thead>
        <tbody>
        {{{repositoryRows}}}</tbody>
        </table>
        <p id="repositories-none" class="muted" hidden>No repository on this page matches; press Search to look through all of them.</p>
        {{/hasRepositories}}
        {{^hasRepositories}}<p class="muted" id="no-repositories">No repositories{{#hasQuery}} whose name contains “{{query}}”{{/hasQuery}} to show.</p>{{/hasRepositories}}
        <p class="muted small">Size counts the blobs pushed or mounted into a repository, each once; space a deleted tag used counts until the next <code>registryctl gc</code>.</p>
        <div class="pager">{{#firstURL}}<a href="{{firstURL}}">← First page</a>{{/firstURL}}{{#nextURL}}<a href="{{nextURL}}" rel="next" id="next-page">Next page →</a>{{/nextURL}}</div>
        {{> footer}}
        """

    static let repository = """
        {{> header}}
        <p class="muted"><a href="/ui/">Repositories</a> /</p>
        <h1>{{name}}</h1>
        {{#mirror}}<p class="muted" id="mirror-note"><span class="tag-badge">mirror</span> A pull-through cache of <code>{{mirror}}</code>: pulls fetch what is missing from there; pushes and deletes are refused.</p>{{/mirror}}
        {{#deleted}}<div class="notice ok" role="status" id="deleted-notice">Deleted {{deleted}}. The space it used returns at the next <code>registryctl gc</code>.</div>{{/deleted}}
        <dl class="fields" id="repository-summary">
        <dt>Tags</dt><dd id="tag-count">{{tagCount}}</dd>
        <dt>Size</dt><dd>{{totalSize}}</dd>
        <dt>Last push</dt><dd><time title="{{pushed.exact}}" id="last-push">{{pushed.text}}</time></dd>
        <dt>Last pull</dt><dd><time title="{{pulled.exact}}" id="last-pull">{{pulled.text}}</time></dd>
        </dl>
        <form class="toolbar" method="get" action="/ui/repository" role="search">
        <input type="hidden" name="name" value="{{name}}">
        <input type="hidden" name="sort" value="{{sort}}">
        <input type="search" name="q" value="{{query}}" placeholder="Filter tags" aria-label="Filter tags" data-filter="tags" id="filter" autocomplete="off">
        <button type="submit">Search</button>
        <span class="muted">Sort:</span>
        <a href="{{sortNewest.url}}" id="sort-newest"{{#sortNewest.active}} aria-current="true" class="current"{{/sortNewest.active}}>Newest first</a>
        <a href="{{sortName.url}}" id="sort-name"{{#sortName.active}} aria-current="true" class="current"{{/sortName.active}}>By name</a>
        </form>
        {{#hasTags}}
        <table id="tags" data-sort="{{sort}}">
        <thead><tr><th>Tag</th><th>Digest</th><th>Kind</th><th class="num">Size</th><th class="wide">Platforms</th><th class="wide">Created</th><th>Pushed</th><th>Pulled</th><th>Pull</th>{{#mayDelete}}<th><span class="offscreen">Delete</span></th>{{/mayDelete}}</tr></thead>
        <tbody>
        {{{tagRows}}}</tbody>
        </table>
        <p id="tags-none" class="muted" hidden>No tag on this page matches; press Search to look through all of them.</p>
        {{/hasTags}}
        {{^hasTags}}<p class="muted" id="no-tags">{{#hasQuery}}No tag whose name contains “{{query}}”.{{/hasQuery}}{{^hasQuery}}This repository has no tags.{{/hasQuery}}</p>{{/hasTags}}
        <div class="pager">{{#firstURL}}<a href="{{firstURL}}">← First page</a>{{/firstURL}}{{#nextURL}}<a href="{{nextURL}}" rel="next" id="next-page">Next page →</a>{{/nextURL}}</div>
        {{> footer}}
        """

    static let image = """
        {{> header}}
        <p class="muted"><a href="/ui/">Repositories</a> / <a href="{{repositoryURL}}">{{name}}</a> /</p>
        <h1 id="image-title">{{name}}{{separator}}{{reference}}</h1>
        <dl class="fields">
        <dt>Digest</dt><dd><code id="digest">{{digest}}</code> <button type="button" data-copy="{{digest}}" hidden>Copy</button></dd>
        <dt>Media type</dt><dd>{{mediaType}}</dd>
        {{#artifactType}}<dt>Artifact type</dt><dd>{{artifactType}}</dd>{{/artifactType}}
        <dt>Size</dt><dd>{{totalSize}}</dd>
        <dt>Pull</dt><dd><code>{{pullCommand}}</code> <button type="button" id="copy-pull" data-copy="{{pullCommand}}" hidden>Copy</button></dd>
        </dl>
        {{#deleteURL}}<p><a class="button danger" href="{{deleteURL}}" id="delete-manifest">Delete this manifest…</a></p>{{/deleteURL}}
        {{#hasChildren}}
        <h2>Platforms</h2>
        <table id="children">
        <thead><tr><th>Platform</th><th>Digest</th><th>Media type</th><th class="num">Size</th></tr></thead>
        <tbody>
        {{#children}}<tr><td>{{platform}}</td><td><a href="{{url}}"><code>{{shortDigest}}</code></a></td><td>{{mediaType}}</td><td class="num">{{size}}</td></tr>
        {{/children}}
        </tbody>
        </table>
        {{/hasChildren}}
        {{#config}}
        <h2>Configuration</h2>
        <dl class="fields" id="config">
        {{#platformText}}<dt>Platform</dt><dd>{{platformText}}</dd>{{/platformText}}
        {{#createdText}}<dt>Created</dt><dd>{{createdText}}</dd>{{/createdText}}
        {{#userText}}<dt>User</dt><dd><code>{{userText}}</code></dd>{{/userText}}
        {{#entrypointText}}<dt>Entrypoint</dt><dd><code>{{entrypointText}}</code></dd>{{/entrypointText}}
        {{#cmdText}}<dt>Cmd</dt><dd><code>{{cmdText}}</code></dd>{{/cmdText}}
        {{#workingDirText}}<dt>Working directory</dt><dd><code>{{workingDirText}}</code></dd>{{/workingDirText}}
        {{#portsText}}<dt>Exposed ports</dt><dd>{{portsText}}</dd>{{/portsText}}
        </dl>
        {{#hasEnv}}<h3>Environment</h3>
        <ul class="plain" id="env">{{#env}}<li><code>{{.}}</code></li>{{/env}}</ul>{{/hasEnv}}
        {{#hasLabels}}<h3>Labels</h3>
        <table id="labels"><tbody>{{#labels}}<tr><th scope="row"><code>{{key}}</code></th><td>{{value}}</td></tr>
        {{/labels}}</tbody></table>{{/hasLabels}}
        {{#hasHistory}}<h3>History</h3>
        <table id="history"><thead><tr><th class="num">#</th><th class="wide">Created</th><th>Command</th><th></th></tr></thead>
        <tbody>{{#history}}<tr><td class="num">{{step}}</td><td class="wide">{{when}}</td><td><code>{{command}}</code>{{#note}}<br><span class="muted">{{note}}</span>{{/note}}</td><td>{{#empty}}<span class="tag-badge">no layer</span>{{/empty}}</td></tr>
        {{/history}}</tbody></table>{{/hasHistory}}
        {{/config}}
        {{#hasLayers}}
        <h2>Layers</h2>
        <table id="layers">
        <thead><tr><th class="num">#</th><th>Digest</th><th class="wide">Media type</th><th class="num">Size</th></tr></thead>
        <tbody>
        {{#layers}}<tr><td class="num">{{step}}</td><td><code title="{{digest}}">{{shortDigest}}</code></td><td class="wide">{{mediaType}}</td><td class="num">{{size}}</td></tr>
        {{/layers}}
        </tbody>
        </table>
        {{/hasLayers}}
        {{#hasAnnotations}}<h2>Annotations</h2>
        <table id="annotations"><tbody>{{#annotations}}<tr><th scope="row"><code>{{key}}</code></th><td>{{value}}</td></tr>
        {{/annotations}}</tbody></table>{{/hasAnnotations}}
        <h2>Referrers</h2>
        {{#hasReferrers}}{{#referrerGroups}}<h3>{{artifactType}}</h3>
        <table class="referrers"><tbody>{{#items}}<tr><td><a href="{{url}}"><code>{{shortDigest}}</code></a></td><td class="wide">{{mediaType}}</td><td class="num">{{size}}</td><td>{{annotations}}</td></tr>
        {{/items}}</tbody></table>
        {{/referrerGroups}}{{/hasReferrers}}
        {{^hasReferrers}}<p class="muted" id="no-referrers">No signatures, SBOMs or other artifacts refer to this manifest.</p>{{/hasReferrers}}
        <h2>Raw JSON</h2>
        <details id="raw-manifest"><summary>Manifest</summary><pre>{{manifestJSON}}</pre></details>
        {{#configJSON}}<details id="raw-config"><summary>Config</summary><pre>{{configJSON}}</pre></details>{{/configJSON}}
        {{> footer}}
        """

    static let status = """
        {{> header}}
        <h1>Status</h1>
        <div class="notice {{#healthy}}ok{{/healthy}}{{^healthy}}error{{/healthy}}" id="health">{{#healthy}}Healthy: storage and database pass their checks.{{/healthy}}{{^healthy}}Unhealthy.{{/healthy}}</div>
        <table id="checks"><thead><tr><th>Check</th><th>Result</th></tr></thead><tbody>
        {{#checks}}<tr><td>{{name}}</td><td>{{result}}</td></tr>
        {{/checks}}</tbody></table>
        <h2>Server</h2>
        <dl class="fields">
        <dt>Version</dt><dd id="version">{{version}}</dd>
        <dt>Uptime</dt><dd>{{uptime}}</dd>
        </dl>
        {{#totals}}
        <h2>Storage</h2>
        <dl class="fields" id="totals">
        <dt>Repositories</dt><dd>{{repositories}}</dd>
        <dt>Tags</dt><dd>{{tags}}</dd>
        <dt>Manifests</dt><dd>{{manifests}}</dd>
        <dt>Blobs</dt><dd>{{blobs}} ({{blobBytes}})</dd>
        <dt>Uploads in progress</dt><dd>{{uploads}}</dd>
        <dt>Last garbage collection</dt><dd>{{lastGC}}</dd>
        </dl>
        {{/totals}}
        {{> footer}}
        """

    static let login = """
        {{> header}}
        <div class="signin">
        <h1>Sign in</h1>
        {{#error}}<div class="notice error" role="alert" id="signin-error">{{error}}</div>{{/error}}
        <form method="post" action="/ui/login">
        <input type="hidden" name="csrf" value="{{chrome.csrf}}">
        <input type="hidden" name="next" value="{{next}}">
        <label for="user">User name</label>
        <input type="text" id="user" name="user" autocomplete="username" required autofocus>
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required>
        <button type="submit" class="primary" id="sign-in-button">Sign in</button>
        </form>
        <p class="muted">The same user name and password as for <code>docker login</code>.</p>
        </div>
        {{> footer}}
        """

    static let delete = """
        {{> header}}
        <p class="muted"><a href="/ui/">Repositories</a> / <a href="{{repositoryURL}}">{{name}}</a> /</p>
        <h1>Delete {{what}}?</h1>
        <div class="notice error">{{explanation}} The space it uses returns at the next <code>registryctl gc</code>.</div>
        <form method="post" action="/ui/delete">
        <input type="hidden" name="csrf" value="{{chrome.csrf}}">
        <input type="hidden" name="name" value="{{name}}">
        <input type="hidden" name="ref" value="{{reference}}">
        <button type="submit" class="danger" id="confirm-delete">Delete</button> <a href="{{backURL}}">Cancel</a>
        </form>
        {{> footer}}
        """

    static let message = """
        {{> header}}
        <h1>{{heading}}</h1>
        <div class="notice {{kind}}" id="message">{{text}}</div>
        {{#link}}<p><a href="{{link}}">{{linkText}}</a></p>{{/link}}
        {{> footer}}
        """
}
