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
    public static let types: Set<EventType> = [
        .dataExtracted, .datasetBuilt, .driftMeasured, .modelTrained, .modelEvaluated, .modelRegistered,
        .modelApproved, .modelRejected, .modelDeployed, .modelRolledBack, .modelRetired,
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

    /// The node for `event` of `type` (one of ``types``), whose version references (`name`, `version`) are resolved
    /// through `registered`. Refuses data that does not have its kind's shape.
    static func node(
        for event: Event,
        type: EventType,
        registered: (String, Int) -> UInt64?
    ) throws(LedgerError) -> LineageNode {
        func json(_ value: some Encodable) -> JSONValue { (try? JSONValueEncoding.encode(value)) ?? .null }
        var sha256: String?
        var inputs: [UInt64?] = []
        var detail: JSONObject = [:]
        var run: String?
        switch type {
        case .dataExtracted:
            let data = try event.decode(DataExtracted.self)
            sha256 = data.snapshot.sha256.hex
            detail = ["rows": .int(data.rows), "window": json(data.window)]
            run = data.run
        case .datasetBuilt:
            let data = try event.decode(DatasetBuilt.self)
            sha256 = data.dataset.sha256.hex
            inputs = [data.extract.seq]
            detail = ["rows": json(data.rows), "featureSpec": .int(data.featureSpec.version)]
            run = data.run
        case .driftMeasured:
            let data = try event.decode(DriftMeasured.self)
            inputs = [data.reference.dataset.seq, data.current.dataset.seq]
            detail = ["verdict": .string(data.verdict.rawValue)]
            run = data.run
        case .modelTrained:
            let data = try event.decode(ModelTrained.self)
            sha256 = data.artifact.sha256.hex
            inputs = [data.dataset.seq]
            detail = ["algorithm": .string(data.algorithm), "seed": .int(data.seed)]
            run = data.run
        case .modelEvaluated:
            let data = try event.decode(ModelEvaluated.self)
            inputs = [data.model.seq, data.holdout.dataset.seq]
            detail = ["verdict": .string(data.verdict.rawValue), "metrics": json(data.candidate)]
            if let champion = data.champion { detail["champion"] = .string("\(champion.name)@\(champion.version)") }
            run = data.run
        case .modelRegistered:
            let data = try event.decode(ModelRegistered.self)
            sha256 = data.model.sha256.hex
            inputs = [data.evaluation.seq, data.model.seq]
            detail = ["version": .string("\(data.name)@\(data.version)")]
            run = data.run
        case .modelApproved:
            let data = try event.decode(ModelApproved.self)
            sha256 = data.sha256.hex
            inputs = [registered(data.name, data.version)]
            detail = ["version": .string("\(data.name)@\(data.version)"), "reason": .string(data.reason)]
        case .modelRejected:
            let data = try event.decode(ModelRejected.self)
            sha256 = data.sha256.hex
            inputs = [registered(data.name, data.version)]
            detail = ["version": .string("\(data.name)@\(data.version)"), "reason": .string(data.reason)]
        case .modelRetired:
            let data = try event.decode(ModelRetired.self)
            sha256 = data.sha256.hex
            inputs = [registered(data.name, data.version)]
            detail = ["version": .string("\(data.name)@\(data.version)")]
            if let reason = data.reason { detail["reason"] = .string(reason) }
        case .modelDeployed:
            let data = try event.decode(ModelDeployed.self)
            sha256 = data.sha256.hex
            inputs = [registered(data.name, data.version)]
            detail = ["version": .string("\(data.name)@\(data.version)"), "target": .string(data.target)]
        case .modelRolledBack:
            let data = try event.decode(ModelRolledBack.self)
            sha256 = data.to.sha256.hex
            inputs = [registered(data.name, data.to.version)]
            detail = [
                "version": .string("\(data.name)@\(data.to.version)"), "target": .string(data.target),
                "from": .string("\(data.name)@\(data.from.version)"),
            ]
        default:
            break
        }
        return LineageNode(
            stamp: EventStamp(event),
            type: event.type,
            sha256: sha256,
            inputs: inputs.compactMap { $0 },
            run: run,
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
