import Foundation
import HTTPTypes
import Hummingbird
import RegistryCore

/// Records state changes and refused logins in the audit trail, from the request, its
/// resolved route and the answer. Placed outside rate limiting and authentication so that
/// refusals pass through it; it only hands events to the ``AuditQueue`` and never waits for
/// the disk, so no answer is delayed by the audit log.
///
/// Recorded: successful manifest pushes (with the digest from `Docker-Content-Digest` and the
/// tag), manifest, tag and blob deletes, blob mounts and completed uploads; a 401 for a request
/// that carried credentials (with the user name the client claimed: HTTP Basic's, or the
/// `sub` of a bearer token read without trusting it, never the password or token); and a 403
/// for a write.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = RegistryRequestContext

    let queue: AuditQueue

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response = try await next(request, context)
        if let event = Self.event(for: request, response: response, context: context) {
            queue.record(event)
        }
        return response
    }

    static func event(for request: Request, response: Response, context: Context) -> AuditEvent? {
        let status = Int(response.status.code)
        let route = context.record.resolution?.route
        var event = AuditEvent(
            action: .loginFailed, user: context.record.user, client: context.clientAddress,
            repository: route?.repositoryName, status: status)
        if status == 401 {
            guard let authorization = request.headers[.authorization] else { return nil }
            event.user = claimedUser(authorization)
            return event
        }
        guard let route else { return nil }
        let method = request.method
        let writes = method == .put || method == .post || method == .patch || method == .delete
        guard writes else { return nil }
        let reference = route.reference
        // A manifest reference is a digest when it has a colon (a tag cannot).
        let names: (tag: String?, digest: String?) = reference.contains(":") ? (nil, reference) : (reference, nil)
        if status == 403 {
            event.action = .accessDenied
            if case .manifest = route { (event.reference, event.digest) = names }
            return event
        }
        guard (200..<300).contains(status) else { return nil }
        let answeredDigest = response.headers[.dockerContentDigest]
        switch (route, method) {
        case (.manifest, .put):
            event.action = .manifestPush
            event.reference = names.tag
            event.digest = answeredDigest ?? names.digest
        case (.manifest, .delete):
            event.action = names.tag == nil ? .manifestDelete : .tagDelete
            (event.reference, event.digest) = names
        case (.blob, .delete):
            event.action = .blobDelete
            event.digest = reference
        case (.uploads, .post) where status == 201:
            if let mounted = request.query("mount") {
                event.action = .blobMount
                event.digest = answeredDigest ?? mounted
                event.source = request.query("from")
            } else {
                event.action = .blobUpload
                event.digest = answeredDigest ?? request.query("digest")
            }
        case (.upload, .put):
            event.action = .blobUpload
            event.digest = answeredDigest ?? request.query("digest")
        default:
            return nil
        }
        return event
    }

    /// The user name a refused request claimed, never its secret: HTTP Basic's user, or the
    /// `sub` claim of a bearer token (decoded, not verified; a forged token names whom it
    /// likes, which is worth knowing too). At most 256 characters.
    static func claimedUser(_ authorization: String) -> String? {
        let name: String?
        if let basic = BasicCredentials(authorization: authorization) {
            name = basic.user
        } else if let token = bearerToken(authorization) {
            name = tokenSubject(token)
        } else {
            name = nil
        }
        guard let name, !name.isEmpty else { return nil }
        return String(name.prefix(256))
    }

    private struct Subject: Decodable {
        var sub: String?
    }

    private static func tokenSubject(_ token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        guard let data = Data(base64Encoded: payload) else { return nil }
        return (try? JSONDecoder().decode(Subject.self, from: data))?.sub
    }
}
