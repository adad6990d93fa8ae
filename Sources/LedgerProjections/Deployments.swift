public import LedgerCore

/// One stretch of time during which a version served a target: from the `model.deployed` or `model.rolledBack`
/// that put it there to the event that replaced it (absent while it still serves).
public struct DeploymentRecord: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case deployed
        case rolledBack
    }

    public var target: String
    public var name: String
    public var version: Int
    /// The artifact digest (hex).
    public var artifact: String
    public var kind: Kind
    /// The event that started it, and the key that signed it.
    public var from: EventStamp
    /// The event that ended it.
    public var until: EventStamp?

    public var label: String { "\(name)@\(version)" }

    /// Whether it served at `time`: it started at or before `time` and ended after it.
    public func served(at time: Timestamp) -> Bool {
        from.time <= time && (until.map { time < $0.time } ?? true)
    }

    public var jsonValue: JSONValue {
        .compact([
            "target": .string(target), "name": .string(name), "version": .int(version),
            "artifact": .string(artifact), "kind": .string(kind.rawValue), "from": from.jsonValue,
            "until": until?.jsonValue,
        ])
    }

    init(
        target: String,
        name: String,
        version: Int,
        artifact: String,
        kind: Kind,
        from: EventStamp,
        until: EventStamp? = nil
    ) {
        self.target = target
        self.name = name
        self.version = version
        self.artifact = artifact
        self.kind = kind
        self.from = from
        self.until = until
    }

    init(json: JSONValue) throws(LedgerError) {
        let row = try RowReader(json, "deployment")
        guard let kind = Kind(rawValue: try row.string("kind")) else {
            throw RowReader.corrupt("deployment", "has an unknown kind")
        }
        self.init(
            target: try row.string("target"),
            name: try row.string("name"),
            version: try row.int("version"),
            artifact: try row.string("artifact"),
            kind: kind,
            from: try EventStamp(json: json["from"]),
            until: try json["until"].map { (value) throws(LedgerError) in try EventStamp(json: value) }
        )
    }
}
