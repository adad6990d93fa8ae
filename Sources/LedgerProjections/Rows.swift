public import LedgerCore

/// An event as the projections cite it: where it is in the log, when, and which key signed it.
public struct EventStamp: Sendable, Hashable {
    public var seq: UInt64
    public var time: Timestamp
    /// The signing key's id.
    public var actor: String

    public init(seq: UInt64, time: Timestamp, actor: String) {
        self.seq = seq
        self.time = time
        self.actor = actor
    }

    init(_ event: Event) { self.init(seq: event.seq, time: event.time, actor: event.actor) }

    public var jsonValue: JSONValue {
        ["seq": .int(seq), "time": .string(time.rfc3339), "actor": .string(actor)]
    }

    init(json: JSONValue?) throws(LedgerError) {
        let row = try RowReader(json, "stamp")
        self.init(seq: try row.seq("seq"), time: try row.time("time"), actor: try row.string("actor"))
    }
}

/// A human's decision on a version (an approval, a rejection or a retirement) and the reason given.
public struct Decision: Sendable, Hashable {
    public var stamp: EventStamp
    public var reason: String?

    public var jsonValue: JSONValue {
        var object = stamp.jsonValue.objectValue ?? [:]
        if let reason { object["reason"] = .string(reason) }
        return .object(object)
    }

    init(stamp: EventStamp, reason: String?) {
        self.stamp = stamp
        self.reason = reason
    }

    init(json: JSONValue?) throws(LedgerError) {
        self.init(stamp: try EventStamp(json: json), reason: json?["reason"]?.stringValue)
    }
}

/// Reads a stored row back, turning any gap into a `store.failure` that names the row: a read table that does not
/// parse was written by something other than this fold, and `ledger projections rebuild` replaces it.
struct RowReader {
    let json: JSONValue
    let what: String

    init(_ json: JSONValue?, _ what: String) throws(LedgerError) {
        guard let json, json.objectValue != nil else { throw Self.corrupt(what, "is not an object") }
        self.json = json
        self.what = what
    }

    static func corrupt(_ what: String, _ problem: String) -> LedgerError {
        LedgerError(.storage, "a stored \(what) row \(problem); run `ledger projections rebuild`")
    }

    func string(_ key: String) throws(LedgerError) -> String {
        guard let value = json[key]?.stringValue else { throw Self.corrupt(what, "lacks the string \(key)") }
        return value
    }

    func optionalString(_ key: String) -> String? { json[key]?.stringValue }

    func int(_ key: String) throws(LedgerError) -> Int {
        guard let value = json[key]?.integerValue else { throw Self.corrupt(what, "lacks the integer \(key)") }
        return Int(value)
    }

    func seq(_ key: String) throws(LedgerError) -> UInt64 {
        guard let value = json[key]?.integerValue, value >= 0 else { throw Self.corrupt(what, "lacks the seq \(key)") }
        return UInt64(value)
    }

    func optionalSeq(_ key: String) -> UInt64? { json[key]?.integerValue.flatMap { $0 >= 0 ? UInt64($0) : nil } }

    func double(_ key: String) throws(LedgerError) -> Double {
        guard let value = json[key]?.doubleValue else { throw Self.corrupt(what, "lacks the number \(key)") }
        return value
    }

    func time(_ key: String) throws(LedgerError) -> Timestamp {
        guard let value = json[key]?.stringValue.flatMap(Timestamp.init(rfc3339:)) else {
            throw Self.corrupt(what, "lacks the time \(key)")
        }
        return value
    }

    func array(_ key: String) throws(LedgerError) -> [JSONValue] {
        guard let value = json[key]?.arrayValue else { throw Self.corrupt(what, "lacks the array \(key)") }
        return value
    }
}

extension JSONValue {
    /// An object of the members that are not nil: absent values are left out rather than written as null.
    static func compact(_ members: [String: JSONValue?]) -> JSONValue {
        .object(members.compactMapValues { $0 })
    }
}
