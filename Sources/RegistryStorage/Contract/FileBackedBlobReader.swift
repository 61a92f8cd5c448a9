import NIOCore

/// A blob reader whose bytes, past those it read when it was opened, lie in an open file.
/// A server that owns the socket can then hand the rest of the range to the kernel
/// (`sendfile`) instead of copying it through user space; one that cannot (TLS) streams.
public protocol FileBackedBlobReader: BlobReader {
    /// The bytes read when the blob was opened: the start of the range.
    var leadingBytes: ByteBuffer { get }
    /// The leading bytes, which the reader then lets go of (it is held until the whole range
    /// is sent). After this the reader is not streamed: its leading bytes are gone.
    func takeLeadingBytes() -> ByteBuffer
    /// The open file and the part of the range after ``leadingBytes``; nil when the leading
    /// bytes are the whole range. The descriptor stays open as long as the reader does.
    var remainingFile: (descriptor: Int32, range: Range<Int64>)? { get }
}
