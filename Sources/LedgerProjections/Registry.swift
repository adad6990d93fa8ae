public import LedgerCore

/// A registered model version, as the log tells it: what it is, where it came from, and what humans decided.
public struct RegistryEntry: Sendable, Hashable {
    /// Where a version stands. The order is the precedence: a retired version is retired even if it was approved.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Registered, with fewer than the policy's number of approvals.
        case pending
        /// Has the policy's number of distinct approvals, and serves no target.
        case approved
        /// Vetoed by an approver: it can no longer be approved or deployed.
        case rejected
        /// Serves at least one target.
        case deployed
        /// Withdrawn for good.
        case retired
    }

    public var name: String
    public var version: Int
    public var status: Status
    /// The model artifact's digest (hex).
    public var artifact: String
    public var registered: EventStamp
    /// The pipeline run that registered it, if any.
    public var run: String?
    /// The `model.trained` event and the algorithm it used.
    public var trained: EventStamp
    public var algorithm: String
    /// The dataset it was trained on: the `dataset.built` seq and the dataset digest (hex).
    public var datasetSeq: UInt64
    public var dataset: String
    /// The `model.evaluated` that let it in, with the candidate's holdout metrics and the champion it beat.
    public var evaluation: EventStamp
    public var metrics: [String: Double]
    public var champion: String?
    public var approvals: [Decision] = []
    public var rejections: [Decision] = []
    public var retired: Decision?
    /// The targets it serves now, sorted.
    public var serving: [String] = []

    public var label: String { "\(name)@\(version)" }

    /// The status the decisions give under a policy that needs `requiredApprovals` approvals.
    func status(requiredApprovals: Int) -> Status {
        if retired != nil { return .retired }
        if !serving.isEmpty { return .deployed }
        if !rejections.isEmpty { return .rejected }
        return approvals.count >= requiredApprovals ? .approved : .pending
    }

    /// Recomputes ``status`` from the decisions and the policy's number of approvals.
    mutating func updateStatus(requiredApprovals: Int) {
        status = status(requiredApprovals: requiredApprovals)
    }

    mutating func modify(_ change: (inout RegistryEntry) -> Void) { change(&self) }

    public var jsonValue: JSONValue {
        .compact([
            "name": .string(name), "version": .int(version), "status": .string(status.rawValue),
            "artifact": .string(artifact), "registered": registered.jsonValue, "run": run.map(JSONValue.string),
            "trained": trained.jsonValue, "algorithm": .string(algorithm),
            "dataset": ["seq": .int(datasetSeq), "sha256": .string(dataset)],
            "evaluation": evaluation.jsonValue,
            "metrics": .object(metrics.mapValues(JSONValue.number)),
            "champion": champion.map(JSONValue.string),
            "approvals": .array(approvals.map(\.jsonValue)), "rejections": .array(rejections.map(\.jsonValue)),
            "retired": retired?.jsonValue, "serving": .array(serving.map(JSONValue.string)),
        ])
    }

    init(json: JSONValue) throws(LedgerError) {
        let row = try RowReader(json, "registry")
        guard let status = Status(rawValue: try row.string("status")) else {
            throw RowReader.corrupt("registry", "has an unknown status")
        }
        let dataset = try RowReader(json["dataset"], "registry dataset")
        var metrics: [String: Double] = [:]
        for (key, value) in json["metrics"]?.objectValue ?? [:] {
            guard let number = value.doubleValue else { throw RowReader.corrupt("registry", "has a bad metric") }
            metrics[key] = number
        }
        self.init(
            name: try row.string("name"),
            version: try row.int("version"),
            status: status,
            artifact: try row.string("artifact"),
            registered: try EventStamp(json: json["registered"]),
            run: row.optionalString("run"),
            trained: try EventStamp(json: json["trained"]),
            algorithm: try row.string("algorithm"),
            datasetSeq: try dataset.seq("seq"),
            dataset: try dataset.string("sha256"),
            evaluation: try EventStamp(json: json["evaluation"]),
            metrics: metrics,
            champion: row.optionalString("champion"),
            approvals: try row.array("approvals").map { (value) throws(LedgerError) in try Decision(json: value) },
            rejections: try row.array("rejections").map { (value) throws(LedgerError) in try Decision(json: value) },
            retired: try json["retired"].map { (value) throws(LedgerError) in try Decision(json: value) },
            serving: try row.array("serving").compactMap(\.stringValue)
        )
    }

    init(
        name: String,
        version: Int,
        status: Status,
        artifact: String,
        registered: EventStamp,
        run: String?,
        trained: EventStamp,
        algorithm: String,
        datasetSeq: UInt64,
        dataset: String,
        evaluation: EventStamp,
        metrics: [String: Double],
        champion: String?,
        approvals: [Decision] = [],
        rejections: [Decision] = [],
        retired: Decision? = nil,
        serving: [String] = []
    ) {
        self.name = name
        self.version = version
        self.status = status
        self.artifact = artifact
        self.registered = registered
        self.run = run
        self.trained = trained
        self.algorithm = algorithm
        self.datasetSeq = datasetSeq
        self.dataset = dataset
        self.evaluation = evaluation
        self.metrics = metrics
        self.champion = champion
        self.approvals = approvals
        self.rejections = rejections
        self.retired = retired
        self.serving = serving
    }
}

/// Identifies a registered version. The name compares, hashes and sorts by its bytes (see ``Identifier``).
public struct VersionKey: Sendable, Hashable, Comparable {
    public var name: String
    public var version: Int

    public init(_ name: String, _ version: Int) {
        self.name = name
        self.version = version
    }

    public static func == (lhs: VersionKey, rhs: VersionKey) -> Bool {
        lhs.version == rhs.version && lhs.name.hasSameBytes(as: rhs.name)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(Identifier(name))
        hasher.combine(version)
    }

    public static func < (lhs: VersionKey, rhs: VersionKey) -> Bool {
        (Identifier(lhs.name), lhs.version) < (Identifier(rhs.name), rhs.version)
    }
}
