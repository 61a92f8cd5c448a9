import AsyncHTTPClient

extension HTTPClientResponse.Body {
    /// Reads and drops a body that is not wanted (an error page, a redirect's), so that the
    /// connection can be reused. Stops after 1 MiB: a larger unwanted body is not worth it.
    func drain() async {
        var seen = 0
        do {
            for try await chunk in self {
                seen += chunk.readableBytes
                if seen > 1 << 20 { return }
            }
        } catch {}
    }
}
