/// Parses durations as Go's `time.ParseDuration` writes them (`10s`, `1h30m`, `500ms`, `168h`).
/// A bare number is taken as seconds.
public enum GoDuration {
    public static func parse(_ text: String) -> Duration? {
        let text = text.trimmingWhitespace()
        if let seconds = Double(text) { return seconds >= 0 ? .milliseconds(Int64(seconds * 1000)) : nil }
        var total: Double = 0  // nanoseconds
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            rest = rest.dropFirst(unit.count)
            guard let scale = units[String(unit)] else { return nil }
            total += value * scale
        }
        return .nanoseconds(Int64(total))
    }

    private static let units: [String: Double] = [
        "ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
    ]
}
