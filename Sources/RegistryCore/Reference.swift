/// What follows `/manifests/`: a tag or a digest.
public enum Reference: Hashable, Sendable, CustomStringConvertible {
    case tag(Tag)
    case digest(Digest)

    public init(parsing string: some StringProtocol) throws(RegistryError) {
        if string.contains(":") {
            self = .digest(try Digest(parsing: string))
        } else {
            self = .tag(try Tag(string))
        }
    }

    public var description: String {
        switch self {
        case .tag(let tag): tag.value
        case .digest(let digest): digest.description
        }
    }
}
