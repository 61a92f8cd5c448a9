import Foundation
import HTTPTypes
import Hummingbird
import RegistryCore

extension RegistryAPI {
    /// Largest page a client may ask for with `n`.
    static let maximumPageSize = 10_000

    /// `GET /v2/<name>/tags/list?n=&last=`
    func tags(_ name: RepositoryName, _ request: Request) async throws -> Response {
        let page = try Page(request)
        guard let tags = try await metadata.tags(in: name, after: page.last, limit: page.fetchLimit) else {
            throw RegistryError(.nameUnknown, "repository name not known to registry", detail: name.value)
        }
        let (items, next) = page.split(tags)
        let body = "{\"name\":\(JSONString.quote(name.value)),\"tags\":[\(items.map(JSONString.quote).joined(separator: ","))]}"
        return Response.json(body, method: request.method, headers: page.link(path: "/v2/\(name)/tags/list", next: next))
    }

    /// `GET /v2/_catalog?n=&last=`
    func catalog(_ request: Request) async throws -> Response {
        let page = try Page(request)
        let names = try await metadata.repositories(after: page.last, limit: page.fetchLimit)
        let (items, next) = page.split(names)
        let body = "{\"repositories\":[\(items.map(JSONString.quote).joined(separator: ","))]}"
        return Response.json(body, method: request.method, headers: page.link(path: "/v2/_catalog", next: next))
    }
}

/// `n` and `last` of a paginated listing.
struct Page {
    var size: Int?
    var last: String?

    init(_ request: Request) throws(RegistryError) {
        if let n = request.query("n"), !n.isEmpty {
            guard let value = Int(n), value >= 0 else {
                throw RegistryError(.unsupported, "n must be a non-negative integer", detail: n, status: 400)
            }
            size = min(value, RegistryAPI.maximumPageSize)
        }
        last = request.query("last").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// One more than the page, to learn whether another page follows.
    var fetchLimit: Int? { size.map { $0 + 1 } }

    func split(_ rows: [String]) -> (items: [String], next: String?) {
        guard let size, rows.count > size else { return (rows, nil) }
        let items = Array(rows.prefix(size))
        return (items, items.last)
    }

    func link(path: String, next: String?) -> HTTPFields {
        var headers = HTTPFields()
        if let size, let next {
            headers[.link] = "<\(path)?n=\(size)&last=\(percentEncode(next))>; rel=\"next\""
        }
        return headers
    }

    private func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(.init(charactersIn: "&=+"))) ?? text
    }
}
