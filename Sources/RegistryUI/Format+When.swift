import Foundation

extension Format {
    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()

    /// `2026-12-02 15:16:08 UTC`, the form ``time(_:)`` gives an image's creation time.
    static func exact(_ date: Date) -> String {
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }

    /// A push or pull time as people scan a list: how long ago for the last month, the day
    /// before that; the exact time goes in the title. Nil is "never".
    static func when(_ date: Date?, now: Date = Date()) -> When {
        guard let date else { return .never }
        let seconds = Int(now.timeIntervalSince(date))
        let text: String
        switch seconds {
        case ..<60: text = "just now"
        case ..<3600: text = "\(seconds / 60) min ago"
        case ..<86400: text = "\(seconds / 3600) h ago"
        case ..<(30 * 86400): text = seconds < 2 * 86400 ? "yesterday" : "\(seconds / 86400) days ago"
        default: text = String(exact(date).prefix(10))
        }
        return When(text: text, exact: exact(date))
    }
}
