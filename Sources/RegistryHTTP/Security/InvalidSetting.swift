/// A configured file or value registryd cannot use: it stops before listening, with exit status 2.
public struct InvalidSetting: Error, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "\(key): \(message)" }

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
}
