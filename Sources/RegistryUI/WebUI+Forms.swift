import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegistryCore
import RegistryService

/// Sign-in, sign-out and deletion: the UI's only state changes. Each is a POST from this
/// origin with a CSRF token bound to the visitor's session; anything else is refused with 403.
extension WebUI {
    /// The largest form body read.
    static let formLimit = 16 * 1024

    struct Form: Decodable {
        var csrf: String?
        var user: String?
        var password: String?
        var next: String?
        var name: String?
        var ref: String?
    }

    /// The form's fields if the request is a same-origin form post whose CSRF token belongs
    /// to `visitor`'s session; nil otherwise.
    func checkedForm(_ request: Request, _ visitor: Visitor) async -> Form? {
        guard Self.isSameOrigin(request) else { return nil }
        guard let buffer = try? await request.body.collect(upTo: Self.formLimit),
            let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer)),
            let token = form.csrf, signer.checkCSRF(token, session: visitor.session)
        else { return nil }
        return form
    }

    /// Browsers say where a form post comes from: `Sec-Fetch-Site`, and `Origin`, which must
    /// name the host the request was sent to. A request that says neither (not a browser) is
    /// judged by its CSRF token alone.
    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            return false
        }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority, let url = URL(string: origin), let originHost = url.host else {
            return false
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    func refused(_ visitor: Visitor) -> Response {
        message(
            visitor, heading: "Refused",
            text: "This form was not sent from this site's own page, or it expired. Reload the page and try again.",
            status: .forbidden)
    }

    /// Where to go after signing in: a path inside the UI, never another site.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/ui"), !next.hasPrefix("//"), !next.contains("\\"),
            !next.contains("\r"), !next.contains("\n")
        else { return "/ui/" }
        return next
    }

    // MARK: Sign-in and sign-out

    func signInForm(_ request: Request) -> Response {
        let visitor = self.visitor(request)
        guard case .htpasswd = settings.signIn else {
            return UIResponse.redirect("/ui/")
        }
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        return render(LoginPage(chrome: chrome("Sign in", visitor), error: nil, next: next), "login")
    }

    func signIn(_ request: Request, client: String) async -> Response {
        let visitor = self.visitor(request)
        guard case .htpasswd(let verify) = settings.signIn else { return UIResponse.redirect("/ui/") }
        guard let form = await checkedForm(request, visitor) else { return refused(visitor) }
        let next = Self.safeNext(form.next)
        let outcome: SignInOutcome
        if let user = form.user, let password = form.password, !user.isEmpty {
            outcome = await verify(user, password, client)
        } else {
            outcome = .refused
        }
        switch outcome {
        case .accepted:
            break
        case .refused:
            logger.notice("web UI sign-in failed")
            return render(
                LoginPage(chrome: chrome("Sign in", visitor), error: "Wrong user name or password.", next: next), "login",
                status: .unauthorized)
        case .throttled(let retryAfter):
            var response = render(
                LoginPage(
                    chrome: chrome("Sign in", visitor),
                    error: "Too many failed sign-ins. Try again in \(retryAfter) seconds.", next: next),
                "login", status: .tooManyRequests)
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        guard let user = form.user else { return refused(visitor) }
        let lifetime = settings.sessionLifetime.components.seconds
        let session = signer.session(user: user, expiry: Date().addingTimeInterval(TimeInterval(lifetime)))
        return UIResponse.redirect(next, cookie: cookie(session, maxAge: lifetime))
    }

    func signOut(_ request: Request) async -> Response {
        let visitor = self.visitor(request)
        guard await checkedForm(request, visitor) != nil else { return refused(visitor) }
        return UIResponse.redirect(visitor.usesSignIn ? "/ui/login" : "/ui/", cookie: cookie("", maxAge: 0))
    }

    /// The session cookie: only for the UI's paths, never readable by script, never sent
    /// with a request another site starts, and only over TLS when the server has it.
    func cookie(_ value: String, maxAge: Int64) -> String {
        "\(Visitor.cookieName)=\(value); Path=/ui; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
            + (settings.secureCookies ? "; Secure" : "")
    }

    // MARK: Deletion

    /// The confirmation page for deleting a tag or a manifest.
    func confirmDelete(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let name = try readableRepository(request, visitor)
        let reference = String(request.uri.queryParameters["ref"] ?? "")
        guard visitor.mayDelete(name.value) else { return deletionRefused(visitor) }
        let stored = try await service.manifest(reference, in: name)
        let isDigest = reference.contains(":")
        let what = isDigest ? "manifest \(Format.shortDigest(reference))" : "tag \(reference)"
        let explanation =
            isDigest
            ? "This removes the manifest \(stored.digest) from \(name.value), and every tag that points to it."
            : "This removes the tag \(reference) from \(name.value); the manifest \(Format.shortDigest(stored.digest.description)) stays if other tags or digests use it."
        let page = DeletePage(
            chrome: chrome("Delete \(what)", visitor), name: name.value, repositoryURL: URLs.repository(name.value),
            reference: reference, what: what, explanation: explanation,
            backURL: isDigest ? URLs.image(name.value, reference) : URLs.repository(name.value))
        return render(page, "delete")
    }

    func deletionRefused(_ visitor: Visitor) -> Response {
        message(
            visitor, heading: "Deletion not allowed",
            text: service.rules.deleteEnabled
                ? "You may not delete in this repository."
                : "Deletion is turned off on this registry (storage.delete.enabled is false).",
            status: .forbidden)
    }

    func delete(_ request: Request) async -> Response {
        let visitor = self.visitor(request)
        guard visitor.mayBrowse, let form = await checkedForm(request, visitor) else { return refused(visitor) }
        guard let raw = form.name, let name = try? RepositoryName(raw), visitor.mayPull(name.value) else {
            return message(visitor, heading: "Not found", text: "no such repository", status: .notFound)
        }
        guard visitor.mayDelete(name.value) else { return deletionRefused(visitor) }
        let reference = form.ref ?? ""
        // The notification event names the signed-in user, as an API delete names its user.
        let origin = EventOrigin(
            request: RegistryEvent.Request(
                id: UUID().uuidString.lowercased(), addr: nil, host: request.head.authority,
                method: request.method.rawValue, useragent: request.headers[.userAgent] ?? ""),
            actor: RegistryEvent.Actor(name: visitor.user), baseURL: "")
        do {
            try await EventOrigin.$current.withValue(origin) { try await service.deleteManifest(reference, in: name) }
        } catch let error as RegistryError {
            return message(visitor, heading: "Not deleted", text: error.message, status: .badRequest)
        } catch {
            logger.error("web UI delete failed", metadata: ["error": "\(error)"])
            return message(visitor, heading: "Not deleted", text: "The registry could not delete it; see its log.", status: .internalServerError)
        }
        logger.info(
            "deleted from the web UI",
            metadata: ["repository": "\(name.value)", "reference": "\(reference)", "user": "\(visitor.user ?? "-")"])
        return UIResponse.redirect(URLs.repository(name.value) + "&deleted=" + URLs.encode(reference))
    }
}
