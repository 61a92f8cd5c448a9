/// What a client may do to a repository, as the Docker token protocol names it.
public enum RegistryAction: String, Sendable, Hashable, CaseIterable, Comparable {
    case pull
    case push
    case delete

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
