import Foundation
import NIOCore
import RegistryCore

/// Authorization values per repository scope, kept until they expire, so that a pull asks the
/// token realm once per repository and token lifetime rather than once per request.
actor UpstreamTokens {
    private struct Entry {
        var value: String
        var expires: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]

    func authorization(for scope: String) -> String? {
        guard let entry = entries[scope] else { return nil }
        guard entry.expires > .now else {
            entries[scope] = nil
            return nil
        }
        return entry.value
    }

    /// Basic credentials the upstream accepted: sent up front from now on.
    func remember(_ value: String, for scope: String) {
        entries[scope] = Entry(value: value, expires: .now + .seconds(3600))
    }

    /// The token response of the Docker token protocol (`token` or OAuth2's `access_token`).
    private struct TokenResponse: Decodable {
        var token: String?
        var accessToken: String?
        var expiresIn: Int?

        enum CodingKeys: String, CodingKey {
            case token
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    /// Asks the realm for a pull token; caches it 10 seconds short of its stated lifetime
    /// (60 seconds when it states none, as the protocol says).
    func fetch(
        realm: String, service: String?, scope: String, cacheScope: String, basic: String?, client: UpstreamClient
    ) async throws -> String {
        guard var components = URLComponents(string: realm) else {
            throw UpstreamFailure.refused(client.mirror.label, "token realm \(realm) is not a URL")
        }
        var query = components.queryItems ?? []
        if let service { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: scope))
        components.queryItems = query
        guard let url = components.string else {
            throw UpstreamFailure.refused(client.mirror.label, "token realm \(realm) is not a URL")
        }
        let response = try await client.getToken(url: url, basic: basic)
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            throw UpstreamFailure.refused(client.mirror.label, "token realm answered \(response.status.code)")
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body.readableBytesView)),
            let token = decoded.token ?? decoded.accessToken, !token.isEmpty
        else {
            throw UpstreamFailure.refused(client.mirror.label, "token realm answered without a token")
        }
        let value = "Bearer " + token
        let lifetime = max(decoded.expiresIn ?? 60, 20) - 10
        entries[cacheScope] = Entry(value: value, expires: .now + .seconds(lifetime))
        return value
    }
}
