public import LedgerCore

/// The read tables' rows as JSON documents: what a ``ProjectionStore`` writes and reads back.
///
/// Each row type's `jsonValue` is its document, the same JSON that `--json` prints, so a stored row and a query's
/// output never disagree.
public struct ProjectionRows: Sendable {
    public var head: Projections.Head?
    /// `{"keys": {keyid: name}, "requiredApprovals": n}`.
    public var context: JSONValue
    public var registry: [JSONValue]
    /// Per target, in log order; targets are told apart by their bytes, as the fold keeps them (see ``Identifier``).
    public var deployments: IdentifierDictionary<[JSONValue]>
    public var runs: [JSONValue]
    public var lineage: [JSONValue]
    public var drift: [JSONValue]

    public init(
        head: Projections.Head?,
        context: JSONValue,
        registry: [JSONValue],
        deployments: IdentifierDictionary<[JSONValue]>,
        runs: [JSONValue],
        lineage: [JSONValue],
        drift: [JSONValue]
    ) {
        self.head = head
        self.context = context
        self.registry = registry
        self.deployments = deployments
        self.runs = runs
        self.lineage = lineage
        self.drift = drift
    }
}

extension Projections {
    /// The context row: key names and the policy's number of approvals.
    public var contextJSON: JSONValue {
        ["keys": .object(keyNames.mapValues(JSONValue.string)), "requiredApprovals": .int(requiredApprovals)]
    }

    /// Reads projections back from their rows.
    ///
    /// - Throws: `store.failure` for a row this fold did not write; `ledger projections rebuild` replaces it.
    public init(rows: ProjectionRows) throws(LedgerError) {
        self.init()
        head = rows.head
        for (keyID, name) in rows.context["keys"]?.objectValue ?? [:] { keyNames[keyID] = name.stringValue ?? "" }
        requiredApprovals = Int(rows.context["requiredApprovals"]?.integerValue ?? 1)
        for json in rows.registry {
            let entry = try RegistryEntry(json: json)
            let key = VersionKey(entry.name, entry.version)
            registry[key] = entry
            if entry.status == .pending || entry.status == .approved { awaiting[key] = entry.approvals.count }
        }
        for (target, records) in rows.deployments {
            deployments[target] = try records.map { (json) throws(LedgerError) in try DeploymentRecord(json: json) }
        }
        for json in rows.runs {
            let run = try RunRecord(json: json)
            runs[run.run] = run
        }
        for json in rows.lineage {
            let node = try LineageNode(json: json)
            lineage[node.stamp.seq] = node
        }
        for json in rows.drift {
            let record = try DriftRecord(measured: try EventStamp(json: json["measured"]), data: json, stored: true)
            drift[record.measured.seq] = record
        }
    }
}
