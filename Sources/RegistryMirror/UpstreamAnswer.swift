import AsyncHTTPClient
import NIOHTTP1

/// What an upstream answered, as the authentication and redirect steps need to see it.
protocol UpstreamAnswer: Sendable {
    var status: HTTPResponseStatus { get }
    var headers: HTTPHeaders { get }
    /// Lets go of a body nobody wants (a challenge's, a redirect's, an error page).
    func discard() async
}

extension HTTPClientResponse: UpstreamAnswer {
    func discard() async {
        await body.drain()
    }
}

/// A blob GET whose body arrives in large buffers (``UpstreamBlobStream``).
struct UpstreamDownload: UpstreamAnswer {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: UpstreamBlobStream
    let task: HTTPClient.Task<Void>

    func discard() async {
        body.discard()
    }

    /// Stops the download: the connection is closed, and nothing more is read.
    func cancel() {
        body.discard()
        task.cancel()
    }
}
