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

    /// Reads `event`, which must be a `data.extracted`; throws `argument.invalid` otherwise, and `event.schema` if
    /// its data does not have the kind's shape.
    public init(_ event: Event) throws(LedgerError) {
        guard event.is(.dataExtracted) else {
            throw LedgerError(.invalidArgument, "seq \(event.seq) is \(event.type), not \(EventType.dataExtracted)")
        }
        let data = try event.decode(DataExtracted.self)
        self.seq = event.seq
        self.from = data.window.from
        self.to = data.window.to
        self.snapshot = data.snapshot.sha256
        self.rows = data.rows
        self.policy = data.policy.rawValue
        self.queryDigest = data.queryDigest.hex
        self.time = event.time
    }
}
