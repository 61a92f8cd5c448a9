import Foundation

extension Format {
    /// `2026-12-02 15:16:08 UTC`, the form ``time(_:)`` gives an image's creation time.
    ///
    /// Computed from the Unix time with Howard Hinnant's days-to-civil algorithm rather than
    /// `Calendar` and `String(format:)`: a 50-row page formats a hundred times, and Foundation's
    /// way was a tenth of the page's time. `FormatTests` compares it with Foundation's.
    static func exact(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, second) = floorDivision(seconds, 86400)
        let (year, month, day) = civil(days: days)
        return "\(year)-\(twoDigits(month))-\(twoDigits(day)) \(twoDigits(second / 3600)):"
            + "\(twoDigits(second % 3600 / 60)):\(twoDigits(second % 60)) UTC"
    }

    /// Year, month and day of the proleptic Gregorian calendar for a count of days since
    /// 1970-01-01 (http://howardhinnant.github.io/date_algorithms.html#civil_from_days).
    private static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    private static func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// A push or pull time as people scan a list: how long ago for the last month, the day
    /// before that; the exact time goes in the title. Nil is "never".
    static func when(_ date: Date?, now: Date = Date()) -> When {
        guard let date else { return .never }
        let exactly = exact(date)
        let seconds = Int(now.timeIntervalSince(date))
        let text: String
        switch seconds {
        case ..<60: text = "just now"
        case ..<3600: text = "\(seconds / 60) min ago"
        case ..<86400: text = "\(seconds / 3600) h ago"
        case ..<(30 * 86400): text = seconds < 2 * 86400 ? "yesterday" : "\(seconds / 86400) days ago"
        default: text = String(exactly.prefix(10))
        }
        return When(text: text, exact: exactly)
    }
}
