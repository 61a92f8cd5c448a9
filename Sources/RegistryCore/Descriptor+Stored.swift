extension Descriptor {
    /// What a manifest's reference points at in its repository.
    public enum StoredKind: String, Sendable {
        case blob
        case manifest
    }

    /// The rule for a reference a manifest needs before it may be stored: the content is in the
    /// repository (`stored` is its size there, nil when absent) and has the size the manifest
    /// declares. Every metadata store applies it inside the transaction that stores the manifest.
    public func requireStored(size stored: Int64?, as kind: StoredKind) throws {
        guard let stored else {
            throw RegistryError(.manifestBlobUnknown, "\(kind.rawValue) unknown to repository", detail: digest.description)
        }
        guard stored == size else {
            throw RegistryError(
                .manifestInvalid, "descriptor size does not match the stored \(kind.rawValue)",
                detail: "\(digest): declared \(size), stored \(stored)")
        }
    }
}
