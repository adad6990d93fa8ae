import Synchronization

/// The service's counters, gauges and histograms, rendered in the Prometheus text exposition format (version
/// 0.0.4). Small and lock-protected: a request updates a few numbers.
public final class ServiceMetrics: Sendable {
    /// Upper bounds, in seconds, of the request latency buckets.
    static let latencyBuckets: [Double] = [
        0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ]
    /// Upper bounds of the anomaly score buckets (scores are in (0, 1)).
    static let scoreBuckets: [Double] = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 1]

    private struct Histogram {
        var bounds: [Double]
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ value: Double) {
            if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] += 1 }
            sum += value
            count += 1
        }
    }

    private struct State {
        var requests: [String: UInt64] = [:]
        var latency: [String: Histogram] = [:]
        var scores = Histogram(bounds: ServiceMetrics.scoreBuckets)
        var rowsScored: UInt64 = 0
        var reloads: UInt64 = 0
        var refusals: [String: UInt64] = [:]
        var connectionsClosed: [String: UInt64] = [:]
        var model: (name: String, version: Int, sha256: String)?
    }

    private let state = Mutex(State())
    /// The connections open now, shed ones included until they close: `ledger_connections_open`.
    let openConnections = Atomic<Int>(0)

    /// The connections open now.
    public var connectionsOpen: Int { openConnections.load(ordering: .relaxed) }

    public init() {}

    /// Counts one request to `route` (its pattern, such as `/v1/registry/{model}`) that answered `status`.
    func request(route: String, method: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests["method=\"\(method)\",route=\"\(route)\",status=\"\(status)\"", default: 0] += 1
            state.latency["route=\"\(route)\"", default: Histogram(bounds: Self.latencyBuckets)].observe(seconds)
        }
    }

    func scored(_ scores: [Double]) {
        state.withLock { state in
            for score in scores { state.scores.observe(score) }
            state.rowsScored += UInt64(scores.count)
        }
    }

    func loaded(name: String, version: Int, sha256: String) {
        state.withLock { state in
            state.reloads += 1
            state.model = (name, version, sha256)
        }
    }

    /// Counts a model the service refused to load, by reason code.
    func refused(code: String) {
        state.withLock { $0.refusals["reason=\"\(code)\"", default: 0] += 1 }
    }

    /// Counts a connection the server closed for its limits: `headerTimeout`, `idleTimeout` or `shed`.
    func connectionClosed(reason: String) {
        state.withLock { $0.connectionsClosed["reason=\"\(reason)\"", default: 0] += 1 }
    }

    /// The connections closed for `reason` so far, for tests.
    public func connectionsClosed(reason: String) -> UInt64 {
        state.withLock { $0.connectionsClosed["reason=\"\(reason)\"", default: 0] }
    }

    /// The refusals so far, for tests and `/readyz`.
    public var refusals: UInt64 { state.withLock { $0.refusals.values.reduce(0, +) } }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        state.withLock { state in
            var out = ""
            func header(_ name: String, _ type: String, _ help: String) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            }
            func histogram(_ name: String, _ labels: String, _ histogram: Histogram) {
                var cumulative: UInt64 = 0
                let prefix = labels.isEmpty ? "" : labels + ","
                for (bound, count) in zip(histogram.bounds, histogram.counts) {
                    cumulative += count
                    out += "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(cumulative)\n"
                }
                out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)\n"
                let braces = labels.isEmpty ? "" : "{\(labels)}"
                out += "\(name)_sum\(braces) \(histogram.sum)\n\(name)_count\(braces) \(histogram.count)\n"
            }
            header("ledger_http_requests_total", "counter", "HTTP requests by method, route and status.")
            for (labels, count) in state.requests.sorted(by: { $0.key < $1.key }) {
                out += "ledger_http_requests_total{\(labels)} \(count)\n"
            }
            header("ledger_http_request_duration_seconds", "histogram", "Time to answer a request, by route.")
            for (labels, value) in state.latency.sorted(by: { $0.key < $1.key }) {
                histogram("ledger_http_request_duration_seconds", labels, value)
            }
            header("ledger_scored_rows_total", "counter", "Rows scored.")
            out += "ledger_scored_rows_total \(state.rowsScored)\n"
            header("ledger_anomaly_score", "histogram", "Anomaly scores returned.")
            histogram("ledger_anomaly_score", "", state.scores)
            header("ledger_model_info", "gauge", "The model serving: 1 for the loaded version.")
            if let model = state.model {
                out +=
                    "ledger_model_info{name=\"\(model.name)\",version=\"\(model.version)\",sha256=\"\(model.sha256)\"} 1\n"
            }
            header("ledger_model_reloads_total", "counter", "Models loaded and switched to.")
            out += "ledger_model_reloads_total \(state.reloads)\n"
            header("ledger_model_refusals_total", "counter", "Deployed models refused, by reason.")
            for (labels, count) in state.refusals.sorted(by: { $0.key < $1.key }) {
                out += "ledger_model_refusals_total{\(labels)} \(count)\n"
            }
            header("ledger_connections_open", "gauge", "Connections open now.")
            out += "ledger_connections_open \(openConnections.load(ordering: .relaxed))\n"
            header(
                "ledger_connections_closed_total",
                "counter",
                "Connections closed by the server's limits, by reason (headerTimeout, idleTimeout, shed)."
            )
            for (labels, count) in state.connectionsClosed.sorted(by: { $0.key < $1.key }) {
                out += "ledger_connections_closed_total{\(labels)} \(count)\n"
            }
            return out
        }
    }
}
