public import LedgerCore

/// The read side of a log: the model registry, the deployment history, run state, the lineage graph and the drift
/// history, as one pure fold over the log's events.
///
/// Folding the same events in the same order always gives the same value, however the fold is split: applying a log
/// event by event, saving and loading in between (``ProjectionStore``), equals folding it in one go. That is what
/// lets the read tables be dropped and rebuilt at any time (`ledger projections rebuild`).
///
/// The fold trusts the rules: it reads events that ``LedgerState`` already accepted, so it does not judge them again.
/// `ledger verify` is what proves the events are the signed, unaltered log.
///
/// Names are keys byte for byte (``IdentifierDictionary``, ``IdentifierSet``, ``VersionKey``), as they are in the
/// read tables, whose `TEXT` columns SQLite and PostgreSQL compare as bytes: two run ids that differ only in
/// Unicode normalization are two runs here too.
public struct Projections: Sendable, Hashable {
    /// The last event folded: its seq and leaf hash, so that a saved fold can tell whether it still belongs to the log.
    public struct Head: Sendable, Hashable {
        public var seq: UInt64
        public var leafHash: Hash256

        public init(seq: UInt64, leafHash: Hash256) {
            self.seq = seq
            self.leafHash = leafHash
        }
    }

    /// What an ``apply(_:leafHash:changes:)`` touched: the rows a ``ProjectionStore`` must write.
    public struct Changes: Sendable, Hashable {
        public var registry: Set<VersionKey> = []
        public var targets: IdentifierSet = []
        public var runs: IdentifierSet = []
        public var lineage: Set<UInt64> = []
        public var drift: Set<UInt64> = []
        public var context = false
        /// Whether ``mark(_:_:)`` records anything: a rebuild writes every row anyway, so it need not.
        public var recording = true

        public init(recording: Bool = true) { self.recording = recording }

        /// Records that the row `key` of a table changed.
        mutating func mark<Key: Hashable>(_ table: WritableKeyPath<Changes, Set<Key>>, _ key: Key) {
            if recording { self[keyPath: table].insert(key) }
        }

        /// Records that the row named `key` of a table changed.
        mutating func mark(_ table: WritableKeyPath<Changes, IdentifierSet>, _ key: String) {
            if recording { self[keyPath: table].insert(key) }
        }

        public var isEmpty: Bool {
            !everything && registry.isEmpty && targets.isEmpty && runs.isEmpty && lineage.isEmpty && drift.isEmpty
                && !context
        }

        /// Every row: what a rebuild writes.
        public var everything = false

        /// Every row of the projections saved with it: what a rebuild writes.
        public static let all: Changes = {
            var changes = Changes(recording: false)
            changes.everything = true
            changes.context = true
            return changes
        }()
    }

    public internal(set) var head: Head?
    /// Key names by keyid, for display.
    public internal(set) var keyNames: [String: String] = [:]
    /// The policy's number of distinct approvals, which decides between `pending` and `approved`.
    public internal(set) var requiredApprovals = 1
    public internal(set) var registry: [VersionKey: RegistryEntry] = [:]
    /// Per target, every stretch of service in log order; the last one without `until` serves now.
    public internal(set) var deployments: IdentifierDictionary<[DeploymentRecord]> = [:]
    public internal(set) var runs: IdentifierDictionary<RunRecord> = [:]
    public internal(set) var lineage: [UInt64: LineageNode] = [:]
    public internal(set) var drift: [UInt64: DriftRecord] = [:]
    /// The approvals of each version whose status the policy decides (pending or approved), so that a `policy.set`
    /// visits only those, not every version.
    var awaiting: [VersionKey: Int] = [:]

    public init() {}

    /// The seq the next ``apply(_:leafHash:changes:)`` expects.
    public var nextSeq: UInt64 { head.map { $0.seq + 1 } ?? 0 }

    /// The step a pipeline event completes.
    static let steps: [EventType: String] = [
        .dataExtracted: "extract", .datasetBuilt: "dataset", .driftMeasured: "drift", .modelTrained: "train",
        .modelEvaluated: "evaluate", .modelRegistered: "register",
    ]

    /// Folds the next event of the log, whose entry has `leafHash`, and adds the rows it touched to `changes`.
    ///
    /// - Throws: `chain.sequence` if `event` is not the next seq. An event whose data does not have its kind's
    ///   shape (which the rules guarantee for every event they accepted) advances the head and adds no rows.
    public mutating func apply(_ event: Event, leafHash: Hash256, changes: inout Changes) throws(LedgerError) {
        guard event.seq == nextSeq else {
            throw LedgerError(.sequence, "the projections expect seq \(nextSeq), found seq \(event.seq)")
        }
        head = Head(seq: event.seq, leafHash: leafHash)
        guard let type = event.eventType else { return }
        do {
            try fold(event, type: type, changes: &changes)
        } catch {
            // Data that does not have its kind's shape was written around the rules (`verify` refuses it): it
            // names nothing the fold could trust, so it adds no rows.
        }
    }

    private mutating func fold(_ event: Event, type: EventType, changes: inout Changes) throws(LedgerError) {
        let stamp = EventStamp(event)
        if LineageNode.types.contains(type) {
            let node = try LineageNode.node(for: event, type: type) { name, version in
                registry[VersionKey(name, version)]?.registered.seq
            }
            lineage[event.seq] = node
            changes.mark(\.lineage, event.seq)
            if let run = node.run, let step = Self.steps[type], runs[run] != nil {
                runs[run]?.record(step: step, seq: event.seq, time: event.time, error: nil, final: false)
                changes.mark(\.runs, run)
            }
        }
        switch type {
        case .ledgerCreated:
            let data = try event.decode(LedgerCreated.self)
            for key in data.keys { keyNames[key.keyid] = key.name }
            setRequiredApprovals(data.policy, changes: &changes)
            changes.context = true
        case .keyAdded:
            let data = try event.decode(KeyAdded.self)
            keyNames[data.keyid] = data.name
            changes.context = true
        case .policySet:
            setRequiredApprovals(try event.decode(PolicySet.self).policy, changes: &changes)
        case .modelRegistered:
            register(try event.decode(ModelRegistered.self), stamp: stamp, changes: &changes)
        case .modelApproved:
            let data = try event.decode(ModelApproved.self)
            let decision = Decision(stamp: stamp, reason: data.reason)
            update(VersionKey(data.name, data.version), changes: &changes) { $0.approvals.append(decision) }
        case .modelRejected:
            let data = try event.decode(ModelRejected.self)
            let decision = Decision(stamp: stamp, reason: data.reason)
            update(VersionKey(data.name, data.version), changes: &changes) { $0.rejections.append(decision) }
        case .modelRetired:
            let data = try event.decode(ModelRetired.self)
            let decision = Decision(stamp: stamp, reason: data.reason)
            update(VersionKey(data.name, data.version), changes: &changes) { $0.retired = decision }
        case .modelDeployed:
            let data = try event.decode(ModelDeployed.self)
            serve(
                DeploymentRecord(
                    target: data.target,
                    name: data.name,
                    version: data.version,
                    artifact: data.sha256.hex,
                    kind: .deployed,
                    from: stamp
                ),
                changes: &changes
            )
        case .modelRolledBack:
            let data = try event.decode(ModelRolledBack.self)
            serve(
                DeploymentRecord(
                    target: data.target,
                    name: data.name,
                    version: data.to.version,
                    artifact: data.to.sha256.hex,
                    kind: .rolledBack,
                    from: stamp
                ),
                changes: &changes
            )
        case .runStarted:
            let data = try event.decode(RunStarted.self)
            runs[data.run] = RunRecord(
                run: data.run,
                trigger: data.trigger.rawValue,
                windowFrom: data.window.from,
                windowTo: data.window.to,
                status: .running,
                started: stamp,
                lastTime: event.time
            )
            changes.mark(\.runs, data.run)
        case .stepFailed:
            let data = try event.decode(StepFailed.self)
            guard var record = runs[data.run] else { break }
            record.record(step: data.step, seq: nil, time: event.time, error: json(data.error), final: false)
            runs[data.run] = record
            changes.mark(\.runs, data.run)
        case .runFailed:
            let data = try event.decode(RunFailed.self)
            guard var record = runs[data.run] else { break }
            let error = json(data.error)
            if let index = record.steps.firstIndex(where: { $0.name == data.step }) {
                // A step that completed stays completed; one still retrying failed for good.
                if record.steps[index].status != .completed {
                    record.steps[index].status = .failed
                    record.steps[index].error = error
                }
            } else {
                record.record(step: data.step, seq: nil, time: event.time, error: error, final: true)
            }
            record.status = .failed
            record.ended = stamp
            record.lastTime = event.time
            runs[data.run] = record
            changes.mark(\.runs, data.run)
        case .runCompleted:
            let data = try event.decode(RunCompleted.self)
            guard var record = runs[data.run] else { break }
            record.status = .completed
            record.ended = stamp
            record.lastTime = event.time
            runs[data.run] = record
            changes.mark(\.runs, data.run)
        case .driftMeasured:
            drift[event.seq] = DriftRecord(measured: stamp, try event.decode(DriftMeasured.self))
            changes.mark(\.drift, event.seq)
        default:
            break
        }
    }

    /// A member of typed data as the JSON it was recorded as (every recorded value encodes).
    private func json(_ value: some Encodable) -> JSONValue { (try? JSONValueEncoding.encode(value)) ?? .null }

    private mutating func setRequiredApprovals(_ policy: PolicyData, changes: inout Changes) {
        requiredApprovals = policy.requiredApprovals
        changes.context = true
        let required = requiredApprovals
        // Only a pending or approved version can change status, and only if the threshold moved past it.
        let flipped = awaiting.compactMap { key, approvals in
            (approvals >= required) == (registry[key]?.status == .approved) ? nil : key
        }
        for key in flipped {
            registry[key]?.updateStatus(requiredApprovals: required)
            changes.mark(\.registry, key)
        }
    }

    private mutating func register(_ data: ModelRegistered, stamp: EventStamp, changes: inout Changes) {
        let key = VersionKey(data.name, data.version)
        let evaluation = lineage[data.evaluation.seq]
        let trained = lineage[data.model.seq]
        let datasetSeq = trained?.inputs.first ?? 0
        var metrics: [String: Double] = [:]
        for (name, value) in evaluation?.detail["metrics"]?.objectValue ?? [:] { metrics[name] = value.doubleValue }
        var entry = RegistryEntry(
            name: key.name,
            version: key.version,
            status: .pending,
            artifact: data.model.sha256.hex,
            registered: stamp,
            run: data.run,
            trained: trained?.stamp ?? stamp,
            algorithm: trained?.detail["algorithm"]?.stringValue ?? "",
            datasetSeq: datasetSeq,
            dataset: lineage[datasetSeq]?.sha256 ?? "",
            evaluation: evaluation?.stamp ?? stamp,
            metrics: metrics,
            champion: evaluation?.detail["champion"]?.stringValue
        )
        entry.updateStatus(requiredApprovals: requiredApprovals)
        registry[key] = entry
        track(key)
        changes.mark(\.registry, key)
    }

    /// Keeps ``awaiting`` in step with the registry row of `key`.
    private mutating func track(_ key: VersionKey) {
        guard let entry = registry[key], entry.status == .pending || entry.status == .approved else {
            awaiting[key] = nil
            return
        }
        awaiting[key] = entry.approvals.count
    }

    private mutating func update(
        _ key: VersionKey,
        changes: inout Changes,
        _ change: (inout RegistryEntry) -> Void
    ) {
        guard registry[key] != nil else { return }
        let required = requiredApprovals
        // Through the optional in place, so that the registry is never copied.
        registry[key]?.modify { entry in
            change(&entry)
            entry.updateStatus(requiredApprovals: required)
        }
        track(key)
        changes.mark(\.registry, key)
    }

    /// Ends what serves the record's target now and starts `record`.
    private mutating func serve(_ record: DeploymentRecord, changes: inout Changes) {
        // In place: a target's history is never copied.
        if let last = deployments[record.target]?.last, last.until == nil {
            deployments[record.target]?.modifyLast { $0.until = record.from }
            update(VersionKey(last.name, last.version), changes: &changes) {
                $0.serving.removeAll { $0.hasSameBytes(as: record.target) }
            }
        }
        deployments[record.target, default: []].append(record)
        changes.mark(\.targets, record.target)
        update(VersionKey(record.name, record.version), changes: &changes) { entry in
            entry.serving = IdentifierSet(entry.serving + [record.target]).sorted()
        }
    }
}

extension Projections {
    /// The rows where `self` and `other` disagree, such as `registry access-anomaly@2` or `lineage seq 12`: what
    /// `ledger projections check` reports when the read tables are not what the log says.
    ///
    /// Rows compare as their JSON documents, whose strings compare byte for byte: a row whose text was rewritten in
    /// another Unicode normalization differs, though Swift's `==` on its `String`s would call it equal.
    public func differences(from other: Projections) -> [String] {
        func compare<Key: Hashable & Comparable, Value>(
            _ table: String,
            _ mine: [Key: Value],
            _ theirs: [Key: Value],
            _ json: (Value) -> JSONValue,
            _ describe: (Key) -> String
        ) -> [String] {
            Set(mine.keys).union(theirs.keys).sorted().filter { mine[$0].map(json) != theirs[$0].map(json) }.map {
                "\(table) \(describe($0))"
            }
        }
        func compare<Value>(
            _ table: String,
            _ mine: IdentifierDictionary<Value>,
            _ theirs: IdentifierDictionary<Value>,
            _ json: (Value) -> JSONValue
        ) -> [String] {
            compare(table, mine.storage, theirs.storage, json) { $0.string }
        }
        var found: [String] = []
        if head != other.head {
            found.append(
                "head: seq \(head.map { "\($0.seq)" } ?? "none") against \(other.head.map { "\($0.seq)" } ?? "none")"
            )
        }
        if contextJSON != other.contextJSON { found.append("context") }
        found += compare("registry", registry, other.registry, \.jsonValue) { "\($0.name)@\($0.version)" }
        found += compare("deployments", deployments, other.deployments) { .array($0.map(\.jsonValue)) }
        found += compare("runs", runs, other.runs, \.jsonValue)
        found += compare("lineage", lineage, other.lineage, \.jsonValue) { "seq \($0)" }
        found += compare("drift", drift, other.drift, \.jsonValue) { "seq \($0)" }
        return found
    }
}

extension Array {
    /// Changes the last element in place (nothing when empty).
    fileprivate mutating func modifyLast(_ change: (inout Element) -> Void) {
        guard !isEmpty else { return }
        change(&self[count - 1])
    }
}
