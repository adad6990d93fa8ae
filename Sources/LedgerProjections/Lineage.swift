public import LedgerCore

/// A node of the lineage graph: one pipeline or governance event, the artifact it produced, and the earlier events
/// it was made from. Following ``inputs`` from a `model.registered` walks back through the evaluation, the trained
/// model and the dataset to the extract; the approvals, deployments and rollbacks of a version name its
/// `model.registered` among their inputs.
public struct LineageNode: Sendable, Hashable {
    public var stamp: EventStamp
    public var type: String
    /// The digest (hex) of what the event produced or is about: a snapshot, a dataset, a model artifact.
    public var sha256: String?
    /// The seqs of the events this one was made from.
    public var inputs: [UInt64]
    public var run: String?
    /// A few type-specific facts for display, such as a row count, a verdict or a target.
    public var detail: JSONObject

    /// The event types that are nodes of the graph.
    public static let types: Set<String> = [
        "data.extracted", "dataset.built", "drift.measured", "model.trained", "model.evaluated", "model.registered",
        "model.approved", "model.rejected", "model.deployed", "model.rolledBack", "model.retired",
    ]

    public var jsonValue: JSONValue {
        .compact([
            "seq": .int(stamp.seq), "time": .string(stamp.time.rfc3339), "actor": .string(stamp.actor),
            "type": .string(type), "sha256": sha256.map(JSONValue.string), "inputs": .array(inputs.map { .int($0) }),
            "run": run.map(JSONValue.string), "detail": .object(detail),
        ])
    }

    init(
        stamp: EventStamp,
        type: String,
        sha256: String?,
        inputs: [UInt64],
        run: String?,
        detail: JSONObject
    ) {
        self.stamp = stamp
        self.type = type
        self.sha256 = sha256
        self.inputs = inputs
        self.run = run
        self.detail = detail
    }

    init(json: JSONValue) throws(LedgerError) {
        let row = try RowReader(json, "lineage")
        self.init(
            stamp: try EventStamp(json: json),
            type: try row.string("type"),
            sha256: row.optionalString("sha256"),
            inputs: try row.array("inputs").map { (value) throws(LedgerError) in
                guard let seq = value.integerValue, seq >= 0 else {
                    throw RowReader.corrupt("lineage", "has a bad input")
                }
                return UInt64(seq)
            },
            run: row.optionalString("run"),
            detail: json["detail"]?.objectValue ?? [:]
        )
    }

    /// The node for `event`, whose version references (`name`, `version`) are resolved through `registered`.
    static func node(for event: Event, registered: (String, Int) -> UInt64?) -> LineageNode {
        let data = event.data
        func seq(_ value: JSONValue?) -> UInt64? { value?.integerValue.flatMap { $0 >= 0 ? UInt64($0) : nil } }
        func hex(_ value: JSONValue?) -> String? { value?.stringValue }
        let name = data["name"]?.stringValue ?? ""
        let version = Int(data["version"]?.integerValue ?? 0)
        var sha256: String?
        var inputs: [UInt64?] = []
        var detail: JSONObject = [:]
        switch event.type {
        case "data.extracted":
            sha256 = hex(data["snapshot"]?["sha256"])
            detail = ["rows": data["rows"] ?? .null, "window": data["window"] ?? .null]
        case "dataset.built":
            sha256 = hex(data["dataset"]?["sha256"])
            inputs = [seq(data["extract"]?["seq"])]
            detail = ["rows": data["rows"] ?? .null, "featureSpec": data["featureSpec"]?["version"] ?? .null]
        case "drift.measured":
            inputs = [seq(data["reference"]?["dataset"]?["seq"]), seq(data["current"]?["dataset"]?["seq"])]
            detail = ["verdict": data["verdict"] ?? .null]
        case "model.trained":
            sha256 = hex(data["artifact"]?["sha256"])
            inputs = [seq(data["dataset"]?["seq"])]
            detail = ["algorithm": data["algorithm"] ?? .null, "seed": data["seed"] ?? .null]
        case "model.evaluated":
            inputs = [seq(data["model"]?["seq"]), seq(data["holdout"]?["dataset"]?["seq"])]
            detail = ["verdict": data["verdict"] ?? .null, "metrics": data["candidate"] ?? .null]
            if let champion = data["champion"] {
                detail["champion"] = .string(
                    "\(champion["name"]?.stringValue ?? "")@\(champion["version"]?.integerValue ?? 0)"
                )
            }
        case "model.registered":
            sha256 = hex(data["model"]?["sha256"])
            inputs = [seq(data["evaluation"]?["seq"]), seq(data["model"]?["seq"])]
            detail = ["version": .string("\(name)@\(version)")]
        case "model.approved", "model.rejected", "model.retired":
            sha256 = hex(data["sha256"])
            inputs = [registered(name, version)]
            detail = ["version": .string("\(name)@\(version)")]
            if let reason = data["reason"] { detail["reason"] = reason }
        case "model.deployed":
            sha256 = hex(data["sha256"])
            inputs = [registered(name, version)]
            detail = ["version": .string("\(name)@\(version)"), "target": data["target"] ?? .null]
        case "model.rolledBack":
            let to = Int(data["to"]?["version"]?.integerValue ?? 0)
            sha256 = hex(data["to"]?["sha256"])
            inputs = [registered(name, to)]
            detail = [
                "version": .string("\(name)@\(to)"), "target": data["target"] ?? .null,
                "from": .string("\(name)@\(data["from"]?["version"]?.integerValue ?? 0)"),
            ]
        default:
            break
        }
        return LineageNode(
            stamp: EventStamp(event),
            type: event.type,
            sha256: sha256,
            inputs: inputs.compactMap { $0 },
            run: data["run"]?.stringValue,
            detail: detail
        )
    }
}

extension Projections {
    /// The lineage of a registered version, in log order: everything it was made from (evaluation, trained model,
    /// dataset, extract), its registration, and every decision and deployment about it since. Nil when `key` is not
    /// registered.
    public func lineage(of key: VersionKey) -> [LineageNode]? {
        guard let registered = registry[key]?.registered.seq else { return nil }
        var seen: Set<UInt64> = []
        var pending = [registered]
        while let seq = pending.popLast() {
            guard seen.insert(seq).inserted, let node = lineage[seq] else { continue }
            pending.append(contentsOf: node.inputs)
        }
        let label = JSONValue.string("\(key.name)@\(key.version)")
        for node in lineage.values where node.inputs.contains(registered) || node.detail["from"] == label {
            seen.insert(node.stamp.seq)
        }
        return seen.sorted().compactMap { lineage[$0] }
    }
}
