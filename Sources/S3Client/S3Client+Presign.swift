import Foundation
import NIOHTTP1

extension S3Client {
    /// A URL that lets anyone holding it `GET` (or `HEAD`) the object for `expires`, without
    /// credentials: what a registry answers 307 with so that clients download straight from the store.
    public func presignedURL(method: HTTPMethod = .GET, key: String, expires: Duration, now: Date = Date()) -> URL? {
        let target = target(key: key, query: [])
        let request = SigV4Signer.Request(method: method.rawValue, host: target.host, encodedPath: target.encodedPath)
        let seconds = max(1, min(Int(expires.components.seconds), 7 * 24 * 3600))
        let query = signer.presignedQuery(for: request, expires: seconds, date: now)
        let scheme = configuration.endpoint.scheme ?? "https"
        return URL(string: "\(scheme)://\(target.host)\(target.encodedPath)?\(query)")
    }
}
