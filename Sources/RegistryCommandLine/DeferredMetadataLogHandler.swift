import Logging

/// A log handler that keeps its metadata as a plain dictionary and hands it to `inner` only
/// when something is logged.
///
/// swift-log's `StreamLogHandler` formats its metadata into a string each time the metadata
/// changes. Hummingbird gives every request's logger a request id, and postgres-nio gives
/// every query's logger a connection id, so the text log format cost a formatting per request
/// and per query even when nothing was logged: 3.5% of registryd's CPU under manifest GETs.
/// The lines written are the same: `inner`'s own metadata stays empty, and what it would have
/// held arrives as the event's metadata, which it formats alike.
struct DeferredMetadataLogHandler<Inner: LogHandler>: LogHandler {
    private var inner: Inner
    var metadata: Logger.Metadata = [:]

    init(_ inner: Inner) {
        self.inner = inner
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard !metadata.isEmpty else { return inner.log(event: event) }
        var event = event
        event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        inner.log(event: event)
    }
}
