public import LedgerCore

/// One raw audit event as a client sends it for scoring: the columns of the Audit DB contract
/// (`audit/extract.sql`) without `label`.
///
/// Every field is personal data or may be: errors about an event name the member and the event's index, never a
/// value.
public struct AuditEvent: Sendable, Hashable {
    /// The three outcomes the contract allows.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case success
        case failure
        case denied
    }

    /// The event's id in the Audit DB. Ids are unique within one scoring request; ``DatasetBuilder`` orders
    /// events by `(occurredAt, id)`, as the extraction query does.
    public let id: Int64
    public let occurredAt: Timestamp
    public let actorID: String
    public let actorRole: String
    public let action: String
    public let resource: String
    public let outcome: Outcome
    /// Null when the Audit DB has no address: never new and never part of a history.
    public let sourceIP: String?
    /// Null when the Audit DB has no country: never new and never part of a history.
    public let country: String?
    /// Null when the Audit DB has no byte count: left out of `total_bytes`.
    public let bytes: Int64?
    public let sessionID: String?

    /// The object members ``init(json:index:)`` reads, which are the Audit DB's column names.
    public static let members = [
        "id", "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome", "source_ip", "country",
        "bytes", "session_id",
    ]

    /// An event from its fields.
    ///
    /// ``DatasetBuilder/featureRows(of:scoreFrom:featureSpec:)`` refuses an event whose `id` is beyond ±2^53 (the
    /// integers a JSON number holds exactly) or whose time is outside the years 0000 to 9999, as the snapshot
    /// reader does.
    public init(
        id: Int64,
        occurredAt: Timestamp,
        actorID: String,
        actorRole: String,
        action: String,
        resource: String,
        outcome: Outcome,
        sourceIP: String? = nil,
        country: String? = nil,
        bytes: Int64? = nil,
        sessionID: String? = nil
    ) {
        self.id = id
        self.occurredAt = occurredAt
        self.actorID = actorID
        self.actorRole = actorRole
        self.action = action
        self.resource = resource
        self.outcome = outcome
        self.sourceIP = sourceIP
        self.country = country
        self.bytes = bytes
        self.sessionID = sessionID
    }

    /// Reads the object form `{"id", "occurred_at", "actor_id", "actor_role", "action", "resource", "outcome",
    /// "source_ip", "country", "bytes", "session_id"}` by the rules the extractor applies to an Audit DB row.
    ///
    /// `id`, `occurred_at`, `actor_id`, `actor_role`, `action`, `resource` and `outcome` MUST be present and not
    /// null; `source_ip`, `country`, `bytes` and `session_id` may be null or absent. `id` and `bytes` are integers
    /// of magnitude at most 2^53, the rest strings; `occurred_at` is exactly `YYYY-MM-DDTHH:MM:SS.mmmZ` and
    /// `outcome` one of `success`, `failure` and `denied`. No other member is allowed.
    ///
    /// - Parameter index: the event's position in the request, named by errors; nil for a lone event.
    /// - Throws: `argument.invalid` naming the index and the member, never its value.
    public init(json: JSONValue, index: Int? = nil) throws(LedgerError) {
        let subject = index.map { "the event at index \($0)" } ?? "the event"
        func fail(_ reason: String) -> LedgerError { LedgerError(.invalidArgument, "\(subject): \(reason)") }
        guard let object = json.objectValue else { throw fail("must be a JSON object") }
        if object.keys.contains(where: { !Self.members.contains($0) }) {
            // The unexpected name is not shown: a client may have put audit data in a key.
            throw fail("has a member that is none of \(Self.members.joined(separator: ", "))")
        }
        func string(_ name: String) throws(LedgerError) -> String? {
            switch object[name] {
            case .none, .null?: return nil
            case .string(let text)?: return text
            case .some: throw fail("\(name) must be a string or null")
            }
        }
        func integer(_ name: String) throws(LedgerError) -> Int64? {
            switch object[name] {
            case .none, .null?: return nil
            case .some(let value):
                guard let integer = value.integerValue else {
                    throw fail("\(name) must be an integer of magnitude at most 2^53, or null")
                }
                return integer
            }
        }
        func required<Value>(_ name: String, _ value: Value?) throws(LedgerError) -> Value {
            guard let value else {
                throw fail(object[name] == nil ? "the member \(name) is missing" : "\(name) must not be null")
            }
            return value
        }
        let id = try required("id", try integer("id"))
        let time = try required("occurred_at", try string("occurred_at"))
        guard let occurredAt = Timestamp(rfc3339: time) else {
            throw fail("occurred_at must be a UTC time of the form YYYY-MM-DDTHH:MM:SS.mmmZ")
        }
        let outcomeText = try required("outcome", try string("outcome"))
        guard let outcome = Outcome(rawValue: outcomeText) else {
            throw fail("outcome must be success, failure or denied")
        }
        self.init(
            id: id,
            occurredAt: occurredAt,
            actorID: try required("actor_id", try string("actor_id")),
            actorRole: try required("actor_role", try string("actor_role")),
            action: try required("action", try string("action")),
            resource: try required("resource", try string("resource")),
            outcome: outcome,
            sourceIP: try string("source_ip"),
            country: try string("country"),
            bytes: try integer("bytes"),
            sessionID: try string("session_id")
        )
    }

    /// Reads a JSON array of events with ``init(json:index:)``, refusing an empty array and one longer than
    /// ``FeatureRows/maximumEvents`` before reading any element.
    ///
    /// - Throws: `argument.invalid`.
    public static func events(from json: JSONValue) throws(LedgerError) -> [AuditEvent] {
        guard let elements = json.arrayValue else {
            throw LedgerError(.invalidArgument, "the events must be a JSON array")
        }
        try FeatureRows.checkCount(elements.count)
        var events: [AuditEvent] = []
        events.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            events.append(try AuditEvent(json: element, index: index))
        }
        return events
    }
}

/// The feature rows of a set of raw audit events, computed by the code that builds the training dataset.
public struct FeatureRows: Sendable, Hashable {
    /// One (actor, hour) window.
    public struct Row: Sendable, Hashable {
        public let actorID: String
        /// The window's first instant, a whole UTC hour.
        public let windowStart: Timestamp
        /// One value per ``FeatureRows/featureNames``, exactly as training reads the dataset CSV's cell: the
        /// cell's text parsed as a `Double`, and 0 for an empty (null) cell.
        public let values: [Double]
    }

    /// The most events one call of ``DatasetBuilder/featureRows(of:scoreFrom:featureSpec:)`` takes.
    public static let maximumEvents = 100_000

    /// The features, in the spec's order: the dataset CSV's feature columns.
    public let featureNames: [String]
    /// The windows in the dataset's row order: by window start, then by actor id compared as UTF-8 bytes.
    public let rows: [Row]

    static func checkCount(_ count: Int) throws(LedgerError) {
        guard count > 0 else { throw LedgerError(.invalidArgument, "there are no events to score") }
        guard count <= maximumEvents else {
            throw LedgerError(
                .invalidArgument,
                "\(count) events are more than the \(maximumEvents) one request may score"
            )
        }
    }
}

extension DatasetBuilder {
    /// The feature rows of `events`, computed exactly as ``build(snapshot:from:to:featureSpec:holdoutFraction:)``
    /// computes a dataset's: the events are ordered by `(occurred_at, id)`, written as the snapshot lines the
    /// extractor writes (with a null `label`), read by the same reader and turned into windows by the same code.
    ///
    /// An actor's history for a window is every earlier event of the actor in `events` within the spec's lookback
    /// (`history.lookbackDays`); callers that want a window judged against its full history MUST send that much.
    /// Events before `scoreFrom` only serve as history.
    ///
    /// - Parameters:
    ///   - events: at least 1 and at most ``FeatureRows/maximumEvents`` events with unique ids, in any order.
    ///   - scoreFrom: rows are returned for the windows whose start (a whole hour) is at or after this instant;
    ///     nil means every window, from the hour of the earliest event. No window qualifying gives no rows.
    ///   - featureSpec: the feature spec's exact bytes (``featureSpecV1``).
    /// - Throws: `argument.invalid` for no events, too many, two events with one id, an id beyond ±2^53, a time
    ///   outside the years 0000 to 9999, or a spec that is not version 1. Reasons name event indexes in `events`,
    ///   never values.
    public static func featureRows(
        of events: [AuditEvent],
        scoreFrom: Timestamp? = nil,
        featureSpec: [UInt8]
    ) throws(LedgerError) -> FeatureRows {
        try FeatureRows.checkCount(events.count)
        let spec = try FeatureSpecV1(featureSpec)
        var firstIndexOfID: [Int64: Int] = [:]
        firstIndexOfID.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            if let first = firstIndexOfID.updateValue(index, forKey: event.id) {
                throw LedgerError(.invalidArgument, "the events at index \(first) and \(index) have the same id")
            }
            guard event.id.magnitude <= 1 << 53 else {
                throw LedgerError(.invalidArgument, "the event at index \(index): id is beyond ±2^53")
            }
            guard Timestamp(rfc3339: event.occurredAt.rfc3339) == event.occurredAt else {
                throw LedgerError(
                    .invalidArgument,
                    "the event at index \(index): occurred_at is outside the years 0000 to 9999"
                )
            }
        }
        let ordered = events.sorted {
            ($0.occurredAt, $0.id) < ($1.occurredAt, $1.id)
        }
        var snapshot: [UInt8] = []
        snapshot.reserveCapacity(ordered.count * 280)
        for event in ordered { appendSnapshotLine(event, to: &snapshot) }

        // `ordered` is not empty: checkCount refused an empty list.
        let first = ordered[0].occurredAt.millisecondsSinceEpoch
        let last = ordered[ordered.count - 1].occurredAt.millisecondsSinceEpoch
        // Window starts are whole hours, so `start >= scoreFrom` is the same test whether or not it is one.
        let eligible =
            scoreFrom?.millisecondsSinceEpoch ?? floorDivide(first, millisecondsPerHour) * millisecondsPerHour
        let table = try SnapshotReader.read(snapshot, from: first, to: last + 1, adminActions: spec.adminActions)
        let windows = computeWindows(table, eligibleFrom: eligible, spec: spec)
        let rows = windows.map { window in
            FeatureRows.Row(
                actorID: String(decoding: table.actors.bytes(Int(window.actor)), as: UTF8.self),
                windowStart: Timestamp(millisecondsSinceEpoch: window.start),
                values: featureNames.indices.map { feature in
                    // As training reads the CSV: an empty cell is 0, any other the number its text spells.
                    let cell = window.value(feature).csvCell
                    return cell.isEmpty ? 0 : Double(cell) ?? 0
                }
            )
        }
        return FeatureRows(featureNames: featureNames, rows: rows)
    }

    /// Appends the event's snapshot line as ``AuditExtractor`` writes a row: one RFC 8785 object with the
    /// snapshot's keys in canonical order, integers in decimal, strings through the extractor's escaping, a null
    /// `label`, then `\n`.
    static func appendSnapshotLine(_ event: AuditEvent, to buffer: inout [UInt8]) {
        func append(_ text: String?) {
            guard var text else {
                buffer.append(contentsOf: "null".utf8)
                return
            }
            text.withUTF8 { AuditExtractor.appendJSONString($0, to: &buffer) }
        }
        buffer.append(UInt8(ascii: "{"))
        for (position, key) in SnapshotReader.keys.enumerated() {
            if position > 0 { buffer.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(key, to: &buffer)
            buffer.append(UInt8(ascii: ":"))
            switch position {
            case SnapshotReader.action: append(event.action)
            case SnapshotReader.actorID: append(event.actorID)
            case SnapshotReader.actorRole: append(event.actorRole)
            case SnapshotReader.bytes:
                if let bytes = event.bytes {
                    AuditExtractor.appendDecimal(bytes, to: &buffer)
                } else {
                    append(nil)
                }
            case SnapshotReader.country: append(event.country)
            case SnapshotReader.id: AuditExtractor.appendDecimal(event.id, to: &buffer)
            case SnapshotReader.label: append(nil)
            case SnapshotReader.occurredAt: append(event.occurredAt.rfc3339)
            case SnapshotReader.outcome: append(event.outcome.rawValue)
            case SnapshotReader.resource: append(event.resource)
            case SnapshotReader.sessionID: append(event.sessionID)
            case SnapshotReader.sourceIP: append(event.sourceIP)
            default: append(nil)  // the snapshot has no other key
            }
        }
        buffer.append(contentsOf: "}\n".utf8)
    }
}
