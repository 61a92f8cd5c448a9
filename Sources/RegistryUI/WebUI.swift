import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import RegistryCore
import RegistryService

/// The web UI: server-rendered pages under `/ui/` that browse, inspect and clean up what the
/// registry holds, through the same ``RegistryService`` and access rules as the API.
///
/// Every page checks who the visitor is (a signed session cookie with htpasswd; nobody when
/// authentication is off) and shows only repositories the visitor may pull. Every state change
/// is a POST carrying a CSRF token bound to the session, from this origin.
public struct WebUI: Sendable {
    let service: RegistryService
    let settings: WebUISettings
    let signer: SessionSigner
    let library: MustacheLibrary
    let logger: Logger
    let summaries = ManifestSummaries()

    /// Repositories and tags per page.
    static let pageSize = 50
    /// Image configs larger than this are not read for display.
    static let configLimit: Int64 = 4 * 1024 * 1024

    public init(service: RegistryService, settings: WebUISettings, logger: Logger) throws {
        self.service = service
        self.settings = settings
        self.logger = logger
        signer = SessionSigner(secret: settings.secret)
        library = try Templates.library()
    }

    /// Adds the UI's routes, and `/` redirecting to `/ui/`.
    public func addRoutes<Context: WebUIRequestContext>(to router: Router<Context>) {
        router.get("/") { _, _ in UIResponse.redirect("/ui/") }
        router.get("/ui") { request, _ in await page(request) { try await repositories(request, $0) } }
        router.get("/ui/repository") { request, _ in await page(request) { try await repository(request, $0) } }
        router.get("/ui/image") { request, _ in await page(request) { try await image(request, $0) } }
        router.get("/ui/status") { request, _ in await page(request) { try await status(request, $0) } }
        router.get("/ui/delete") { request, _ in await page(request) { try await confirmDelete(request, $0) } }
        router.post("/ui/delete") { request, _ in await delete(request) }
        router.get("/ui/login") { request, _ in signInForm(request) }
        router.post("/ui/login") { request, context in await signIn(request, client: context.clientAddress) }
        router.post("/ui/logout") { request, _ in await signOut(request) }
        router.get("/ui/static/berth.css") { _, _ in UIResponse.asset(Assets.stylesheet, contentType: "text/css; charset=utf-8") }
        router.get("/ui/static/berth.js") { _, _ in
            UIResponse.asset(Assets.script, contentType: "text/javascript; charset=utf-8")
        }
    }

    // MARK: Visitors and pages

    func visitor(_ request: Request) -> Visitor {
        var user: String?
        var session: String?
        if case .htpasswd = settings.signIn, let cookie = Visitor.cookie(Visitor.cookieName, in: request),
            let named = signer.user(ofSession: cookie)
        {
            user = named
            session = cookie
        }
        return Visitor(
            user: user, session: session, signIn: settings.signIn, policy: settings.policy,
            deleteEnabled: service.rules.deleteEnabled && !service.rules.readOnly)
    }

    func chrome(_ title: String, _ visitor: Visitor) -> Chrome {
        Chrome(
            title: title, user: visitor.user, csrf: signer.csrfToken(session: visitor.session),
            offersSignIn: visitor.usesSignIn && visitor.user == nil)
    }

    func render(_ object: Any, _ template: String, status: HTTPResponse.Status = .ok, cookie: String? = nil) -> Response {
        UIResponse.html(library.render(object, withTemplate: template) ?? "", status: status, cookie: cookie)
    }

    func message(
        _ visitor: Visitor, heading: String, text: String, kind: String = "error", status: HTTPResponse.Status,
        link: String? = nil, linkText: String? = nil
    ) -> Response {
        render(
            MessagePage(
                chrome: chrome(heading, visitor), heading: heading, text: text, kind: kind, link: link, linkText: linkText),
            "message", status: status)
    }

    /// Runs a page's handler for a visitor who may browse; sends others to the sign-in form,
    /// and turns the registry's errors into a page.
    func page(_ request: Request, _ handler: (Visitor) async throws -> Response) async -> Response {
        let visitor = self.visitor(request)
        if case .token(let realm) = settings.signIn {
            return message(
                visitor, heading: "The web UI needs htpasswd",
                text: """
                    This registry signs clients in with tokens from \(realm). The web UI can sign people in only \
                    with auth.htpasswd; use the API (docker, oras, skopeo) with a token, or configure htpasswd.
                    """, kind: "", status: .notImplemented)
        }
        guard visitor.mayBrowse else {
            let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return UIResponse.redirect("/ui/login?next=" + URLs.encode(target))
        }
        do {
            return try await handler(visitor)
        } catch let error as RegistryError {
            switch error.code {
            case .nameUnknown, .manifestUnknown, .blobUnknown, .nameInvalid, .tagInvalid, .digestInvalid:
                return message(visitor, heading: "Not found", text: error.message, status: .notFound, link: "/ui/", linkText: "All repositories")
            case .denied:
                return message(visitor, heading: "Not allowed", text: error.message, status: .forbidden)
            default:
                return message(visitor, heading: "Cannot do that", text: error.message, status: .badRequest)
            }
        } catch {
            logger.error("web UI page failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return message(visitor, heading: "Something went wrong", text: "The registry could not answer; see its log.", status: .internalServerError)
        }
    }

    /// A repository the visitor may pull from, or `NAME_UNKNOWN` (a repository the rules
    /// hide looks the same as one that does not exist).
    func readableRepository(_ request: Request, _ visitor: Visitor) throws -> RepositoryName {
        guard let raw = request.uri.queryParameters["name"], let name = try? RepositoryName(raw), visitor.mayPull(name.value)
        else { throw RegistryError(.nameUnknown, "no such repository") }
        return name
    }

    /// `host/name` for `docker pull`: the host the browser used to reach us.
    func pullHost(_ request: Request) -> String {
        request.head.authority ?? "localhost"
    }
}

/// Links inside the UI; every value is percent-encoded.
enum URLs {
    /// Percent-encodes every byte of the UTF-8 form but RFC 3986's unreserved characters, with
    /// upper-case hex, as `addingPercentEncoding` does; names and tags are usually unreserved
    /// throughout and come back as they are.
    static func encode(_ value: String) -> String {
        let bytes = value.utf8
        guard !bytes.allSatisfy(isUnreserved) else { return value }
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(bytes.count * 3)
        for byte in bytes {
            if isUnreserved(byte) {
                encoded.append(byte)
            } else {
                encoded.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    static func repository(_ name: String) -> String { "/ui/repository?name=" + encode(name) }
    static func image(_ name: String, _ reference: String) -> String {
        "/ui/image?name=" + encode(name) + "&ref=" + encode(reference)
    }
    static func delete(_ name: String, _ reference: String) -> String {
        "/ui/delete?name=" + encode(name) + "&ref=" + encode(reference)
    }
}
