public import LedgerCore

/// What a `data.extracted` event recorded, read once for every step that builds on it.
public struct RecordedExtract: Sendable, Hashable {
    public let seq: UInt64
    /// The half-open window `[from, to)`.
    public let from: Timestamp
    public let to: Timestamp
    public let snapshot: Hash256
    public let rows: Int
    /// `refuse` or `quarantine`.
    public let policy: String
    public let queryDigest: String
    /// The event's own time: the "now" its extraction judged future rows by.
    public let time: Timestamp

    /// Reads `event`, which must be a `data.extracted`; throws `argument.invalid` otherwise.
    public init(_ event: Event) throws(LedgerError) {
        guard event.type == "data.extracted" else {
            throw LedgerError(.invalidArgument, "seq \(event.seq) is \(event.type), not data.extracted")
        }
        let data = event.data
        guard let from = data["window"]?["from"]?.stringValue.flatMap(Timestamp.init(rfc3339:)),
            let to = data["window"]?["to"]?.stringValue.flatMap(Timestamp.init(rfc3339:)),
            let snapshot = data["snapshot"]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:)),
            let policy = data["policy"]?.stringValue, let queryDigest = data["queryDigest"]?.stringValue
        else {
            throw LedgerError(
                .invalidArgument,
                "the data.extracted event at seq \(event.seq) has no window or snapshot"
            )
        }
        self.seq = event.seq
        self.from = from
        self.to = to
        self.snapshot = snapshot
        self.rows = Int(data["rows"]?.integerValue ?? 0)
        self.policy = policy
        self.queryDigest = queryDigest
        self.time = event.time
    }
}
