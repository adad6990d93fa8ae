public import LedgerCore

/// The projections' answers as JSON: what `ledger registry|deployments|runs|lineage|drift --json` print and what
/// `ledger serve`'s read API returns, from one place.
extension Projections {
    /// Every registered version (of `model`, if given), by name, then version.
    public func registryJSON(model: String? = nil) -> JSONValue {
        let entries = registry.values.filter { model.map($0.name.hasSameBytes(as:)) ?? true }
            .sorted { VersionKey($0.name, $0.version) < VersionKey($1.name, $1.version) }
        return .array(entries.map(\.jsonValue))
    }

    /// One registered version, or nil.
    public func versionJSON(_ name: String, _ version: Int) -> JSONValue? {
        registry[VersionKey(name, version)]?.jsonValue
    }

    /// The deployment history (of `target`, if given); with `at`, what served each target at that instant, with
    /// the seqs of the two events that bound the answer.
    public func deploymentsJSON(target: String? = nil, at time: Timestamp? = nil) -> JSONValue {
        let targets = deployments.sortedByKey().map(\.key).filter { target.map($0.hasSameBytes(as:)) ?? true }
        guard let time else { return .array(targets.flatMap { deployments[$0] ?? [] }.map(\.jsonValue)) }
        return .array(
            targets.map { name in
                let record = deployments[name]?.last { $0.served(at: time) }
                var object: [String: JSONValue] = [
                    "target": .string(name), "at": .string(time.rfc3339), "serving": record?.jsonValue ?? .null,
                ]
                if let record {
                    var proof: [String: JSONValue] = ["from": .int(record.from.seq)]
                    if let until = record.until { proof["until"] = .int(until.seq) }
                    object["proof"] = .object(proof)
                }
                return .object(object)
            }
        )
    }

    /// Every run, oldest first.
    public func runsJSON() -> JSONValue {
        .array(runs.values.sorted { $0.started.seq < $1.started.seq }.map(\.jsonValue))
    }

    /// The lineage of one version: every node it depends on, or nil if it is not registered.
    public func lineageJSON(_ name: String, _ version: Int) -> JSONValue? {
        lineage(of: VersionKey(name, version)).map { nodes in
            ["version": .string("\(name)@\(version)"), "nodes": .array(nodes.map(\.jsonValue))]
        }
    }

    /// The drift history, oldest first: the last `last` measurements, only `feature` if given.
    public func driftJSON(feature: String? = nil, last: Int? = nil) -> JSONValue {
        .array(driftRecords(feature: feature, last: last).map(\.jsonValue))
    }

    /// The drift measurements, oldest first: the last `last`, keeping only `feature` if given (and dropping
    /// measurements without it).
    public func driftRecords(feature: String? = nil, last: Int? = nil) -> [DriftRecord] {
        var records = drift.values.sorted { $0.measured.seq < $1.measured.seq }
        if let last { records = Array(records.suffix(last)) }
        guard let feature else { return records }
        return records.compactMap { record in
            var record = record
            record.features = record.features.filter { $0.name.hasSameBytes(as: feature) }
            return record.features.isEmpty ? nil : record
        }
    }
}
