/// A blob reader whose bytes lie in a file that may still be growing: a pull-through cache's
/// spool, written by the one download from the upstream while clients already read it.
///
/// A server that owns the socket hands each stretch to the kernel (`sendfile`) as soon as it is
/// written, instead of reading it into memory and writing it out again: the first pull of a
/// mirrored blob then copies each byte once less and wakes the disk's threads not at all.
public protocol GrowingFileBlobReader: BlobReader {
    /// Calls `send` with the open file and each next stretch of the range, in order, once its
    /// bytes are in the file, until the range is covered. Throws the download's failure (the
    /// client is cut off rather than given the end of unverified bytes). The descriptor stays
    /// open while `send` runs.
    func sendWritten(_ send: (_ descriptor: Int32, _ range: Range<Int64>) async throws -> Void) async throws
}
