import NIOCore
import NIOHTTP1

/// Marks a plain-HTTP connection's pipeline as one that can send a file by `sendfile`, and is
/// where such a body enters it.
///
/// Hummingbird's response writer carries bodies as `ByteBuffer`s (HTTP types), so a NIO
/// `FileRegion` cannot pass through it. This handler sits below the conversion to HTTP types,
/// next to NIO's HTTP/1 encoder, which takes `IOData.fileRegion`; ``SendfileWriter`` writes
/// from here. It is not added behind TLS: a file region cannot be encrypted.
final class SendfileHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart
}

/// Sends the rest of a blob file on a connection with a ``SendfileHandler``.
struct SendfileWriter: Sendable {
    let channel: any Channel

    /// Whether this connection takes file regions (plain HTTP), asked before a body whose
    /// stretches are sent one by one, so that it need not fall back halfway through.
    func isAvailable() async throws -> Bool {
        let channel = self.channel
        return try await channel.eventLoop.submit {
            (try? channel.pipeline.syncOperations.context(handlerType: SendfileHandler.self)) != nil
        }.get()
    }

    /// Writes `leading`, then `range` of the open file `descriptor` as one file region, and
    /// returns once the kernel has taken all of it (the write's promise: one download has no
    /// more than the socket's buffer in flight, and no copy of the file in memory). Returns
    /// false, having written nothing, when the connection cannot take a file region (TLS).
    ///
    /// The response head must have been written through Hummingbird's writer already: its
    /// writes reach the event loop before this hop does, so the parts stay in order. The
    /// caller keeps the descriptor open until this returns.
    func send(leading: ByteBuffer, descriptor: Int32, range: Range<Int64>) async throws -> Bool {
        let channel = self.channel
        return try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Bool> in
            guard let context = try? channel.pipeline.syncOperations.context(handlerType: SendfileHandler.self) else {
                return channel.eventLoop.makeSucceededFuture(false)
            }
            // Borrowed, not owned: the blob reader closes the descriptor; the handle gives it
            // back once the write is over, whatever its outcome.
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
            let region = FileRegion(
                fileHandle: handle, readerIndex: Int(range.lowerBound), endIndex: Int(range.upperBound))
            let written = channel.eventLoop.makePromise(of: Void.self)
            if leading.readableBytes > 0 {
                context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(leading))), promise: nil)
            }
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: written)
            return written.futureResult.always { _ in
                _ = try? handle.takeDescriptorOwnership()
            }.map { true }
        }.get()
    }
}
