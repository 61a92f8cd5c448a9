/// What an I/O failure in storage means to a client, without exposing paths or system detail.
public protocol StorageFailure: Error {
    /// The disk or quota is full.
    var isNoSpace: Bool { get }
    /// The file system refuses writes (read-only mount).
    var isReadOnly: Bool { get }
}

extension POSIXFile.Failure: StorageFailure {}
