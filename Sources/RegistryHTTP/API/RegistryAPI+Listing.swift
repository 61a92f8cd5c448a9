import Foundation
import HTTPTypes
import Hummingbird
import RegistryCore
import RegistryService

extension RegistryAPI {
    /// `GET /v2/<name>/tags/list?n=&last=`
    func tags(_ name: RepositoryName, _ request: Request) async throws -> Response {
        let page = try await service.tags(in: name, page: try Self.pageRequest(request))
        return Response.json(
            TagList(name: name.value, tags: page.items), method: request.method,
            headers: link(path: "/v2/\(name)/tags/list", page))
    }

    /// `GET /v2/_catalog?n=&last=`
    func catalog(_ request: Request) async throws -> Response {
        let page = try await service.catalog(page: try Self.pageRequest(request))
        return Response.json(Catalog(repositories: page.items), method: request.method, headers: link(path: "/v2/_catalog", page))
    }

    /// `n` and `last` from the query.
    static func pageRequest(_ request: Request) throws(HTTPRefusal) -> PageRequest {
        var page = PageRequest()
        if let n = request.query("n"), !n.isEmpty {
            guard let value = Int(n), value >= 0 else {
                throw HTTPRefusal(.badRequest, .unsupported, "n must be a non-negative integer", detail: n)
            }
            page.size = value
        }
        page.last = request.query("last").flatMap { $0.isEmpty ? nil : $0 }
        return page
    }

    /// `Link: <…?n=&last=>; rel="next"` when another page follows.
    private func link(path: String, _ page: ListingPage) -> HTTPFields {
        var headers = HTTPFields()
        if let size = page.size, let next = page.next {
            headers[.link] = "<\(locations.url(path))?n=\(size)&last=\(Self.percentEncode(next))>; rel=\"next\""
        }
        return headers
    }

    private static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(.init(charactersIn: "&=+"))) ?? text
    }

    struct TagList: Encodable {
        var name: String
        var tags: [String]
    }

    struct Catalog: Encodable {
        var repositories: [String]
    }
}
