import Foundation
import Hummingbird
import RegistryStorage

/// The cursor of a sorted page in its links: `last` (the name the page continues after),
/// `at` (that row's time, for time orders) and `bytes` (its size, for the size order).
enum PageLinks {
    /// Which of the cursor's keys the listing's order uses.
    enum Key {
        case name, time, size

        init(_ order: RepositoryOrder) {
            switch order {
            case .name: self = .name
            case .pushed: self = .time
            case .size: self = .size
            }
        }

        init(_ order: TagOrder) {
            switch order {
            case .name: self = .name
            case .newest: self = .time
            }
        }
    }

    static func query(_ cursor: ListingCursor, key: Key) -> String {
        let query = "&last=" + URLs.encode(cursor.name)
        switch key {
        case .name: return query
        case .time: return query + "&at=" + String(cursor.time)
        case .size: return query + "&bytes=" + String(cursor.size)
        }
    }

    /// The cursor a request asks for; nil for the first page. Values that do not parse count as 0.
    static func cursor(_ request: Request) -> ListingCursor? {
        let parameters = request.uri.queryParameters
        guard let last = parameters["last"] else { return nil }
        return ListingCursor(
            name: String(last), time: parameters["at"].flatMap { Double(String($0)) }.flatMap { $0.isFinite ? $0 : nil } ?? 0,
            size: parameters["bytes"].flatMap { Int64(String($0)) } ?? 0)
    }
}
