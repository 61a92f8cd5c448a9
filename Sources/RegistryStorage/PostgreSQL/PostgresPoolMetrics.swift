import Metrics

/// Metrics of the PostgreSQL store's pool, per registryd:
/// - `registry_database_connections_in_use`: connections leased from the pool right now;
/// - `registry_database_transactions_total{result}`: transactions `ok`, `failed` (an error
///   from the database or the network, including one that ran past `connecttimeout`) or
///   `refused` (a registry rule said no, e.g. a blob being deleted, or the request was
///   cancelled: not the database's fault);
/// - `registry_database_transaction_duration_seconds`: from asking the pool for a connection
///   to the commit, so waiting for a free connection shows here first when the pool is small.
///
/// Every store operation is one transaction (see ``PostgresMetadataStore/transaction``), so
/// these count every query the registry makes except LISTEN/NOTIFY's. Objects are made at each
/// use, so a store opened before the metrics system is bootstrapped still reports.
enum PostgresPoolMetrics {
    enum Result: String {
        case ok, failed, refused
    }

    static func leased<T>(_ body: () async throws -> T) async rethrows -> T {
        let inUse = Meter(label: "registry_database_connections_in_use")
        inUse.increment()
        defer { inUse.decrement() }
        return try await body()
    }

    static func transaction(_ result: Result, nanoseconds: Int64) {
        Counter(label: "registry_database_transactions_total", dimensions: [("result", result.rawValue)]).increment()
        Timer(label: "registry_database_transaction_duration_seconds").recordNanoseconds(nanoseconds)
    }

    static func since(_ start: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }
}
