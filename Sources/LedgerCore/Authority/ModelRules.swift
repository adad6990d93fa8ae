/// What the log has said so far about datasets and models: the part of ``LedgerState`` that the model events'
/// rules are judged against.
///
/// The rules, enforced when appending and again by the verifier:
/// - `dataset.built` names a `data.extracted` event by seq, with the snapshot digest that event recorded.
/// - `model.trained` names a `dataset.built` event by seq, with the dataset digest that event recorded.
/// - `model.evaluated` names a `model.trained` event by seq with its artifact digest, was judged under the policy
///   in force (its digest), names as champion only a registered version with that version's artifact, reports the
///   difference as exactly candidate − champion, and its verdict is what ``Gate/verdict(candidateAucRoc:champion:)``
///   gives for its own numbers.
/// - `model.registered` names a passing `model.evaluated` of the same model, takes exactly the next version of its
///   name, and never registers the same artifact twice under one name.
///
/// Model names, targets and keyids are identities: they are compared and looked up byte for byte (see
/// ``Identifier``), so a name in another Unicode normalization, or with U+212A KELVIN SIGN for `K`, names nothing.
public struct ModelRules: Sendable, Hashable {
    /// A registered version of a model.
    public struct Version: Sendable, Hashable {
        public let name: String
        public let version: Int
        public let artifact: Hash256
        /// The seq of the `model.registered` event.
        public let registeredAt: UInt64
        /// The seq of the `model.trained` event, and the key that signed it.
        public let trainedAt: UInt64
        public let trainedBy: String
        /// The `model.approved` events, one per approving key, in log order.
        public internal(set) var approvals: [Decision] = []
        /// The `model.rejected` events, one per rejecting key. The first is a veto.
        public internal(set) var rejections: [Decision] = []
        /// The seq of the `model.retired` event.
        public internal(set) var retiredAt: UInt64?
    }

    /// A human's decision: who signed it, and where it is in the log.
    public struct Decision: Sendable, Hashable {
        public let actor: String
        public let seq: UInt64
    }

    /// A version serving a target, and the `model.deployed` or `model.rolledBack` that put it there.
    public struct Serving: Sendable, Hashable {
        public let name: String
        public let version: Int
        public let seq: UInt64
    }

    /// A deployment target: what serves it now, and every version that ever served it.
    public struct Target: Sendable, Hashable {
        public internal(set) var current: Serving?
        /// `name@version` of every version that ever served the target.
        public internal(set) var served: IdentifierSet = []
    }

    struct Trained: Sendable, Hashable {
        let artifact: Hash256
        let actor: String
    }

    struct Evaluated: Sendable, Hashable {
        let modelSeq: UInt64
        let artifact: Hash256
        let passed: Bool
    }

    /// Snapshot digests by the seq of their `data.extracted` event.
    private(set) var snapshots: [UInt64: Hash256] = [:]
    /// Dataset digests by the seq of their `dataset.built` event.
    private(set) var datasets: [UInt64: Hash256] = [:]
    private(set) var trained: [UInt64: Trained] = [:]
    private(set) var evaluations: [UInt64: Evaluated] = [:]
    /// Registered versions by model name, in version order (version n is at index n − 1).
    public internal(set) var versions: IdentifierDictionary<[Version]> = [:]
    /// The version number of each registered artifact, by model name: the index behind "never the same artifact
    /// twice under one name".
    private(set) var registeredArtifacts: IdentifierDictionary<[Hash256: Int]> = [:]
    /// Deployment targets by name.
    public internal(set) var targets: IdentifierDictionary<Target> = [:]

    public init() {}

    /// The registered version `version` of `name`, if there is one.
    public func version(_ name: String, _ version: Int) -> Version? {
        guard let versions = versions[name], version >= 1, version <= versions.count else { return nil }
        return versions[version - 1]
    }

    /// The seq of the latest `dataset.built` that recorded the dataset `digest`.
    public func datasetSeq(of digest: Hash256) -> UInt64? {
        datasets.filter { $0.value == digest }.keys.max()
    }

    /// The seq of the latest `model.trained` that recorded the model artifact `digest`.
    public func trainedSeq(of digest: Hash256) -> UInt64? {
        trained.filter { $0.value.artifact == digest }.keys.max()
    }

    /// The registered versions of the model artifact `digest`, in registration order.
    public func versions(of digest: Hash256) -> [Version] {
        versions.values.flatMap { $0 }.filter { $0.artifact == digest }.sorted { $0.registeredAt < $1.registeredAt }
    }

    /// A model name is 1 to 64 letters, digits, `.`, `_` or `-`, and starts with a letter or digit.
    public static func isValidName(_ name: String) -> Bool {
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first), name.unicodeScalars.count <= 64 else {
            return false
        }
        return name.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    func check(_ event: Event, policy: Policy) throws(LedgerError) {
        switch event.eventType {
        case .datasetBuilt:
            let data = try event.decode(DatasetBuilt.self)
            let extract = RecordedArtifact(seq: data.extract.seq, sha256: data.extract.snapshot.sha256)
            try requireRecorded(extract, in: snapshots, by: .dataExtracted, for: event)
        case .modelTrained:
            try requireRecorded(event.decode(ModelTrained.self).dataset, in: datasets, by: .datasetBuilt, for: event)
        case .modelEvaluated:
            let data = try event.decode(ModelEvaluated.self)
            try requireRecorded(data.model, by: .modelTrained, for: event) { trained[$0]?.artifact }
            try requireRecorded(data.holdout.dataset, in: datasets, by: .datasetBuilt, for: event)
            guard data.policy.sha256 == policy.digest else {
                throw LedgerError(.policy, "model.evaluated was judged under a policy that is not the one in force")
            }
            let comparison = try comparison(in: data)
            let verdict = policy.gate.verdict(candidateAucRoc: data.candidate.aucRoc, champion: comparison)
            guard (data.verdict == .pass) == verdict.passed else {
                throw LedgerError(
                    .policy,
                    "model.evaluated's verdict does not follow from its metrics under the policy: the gate says "
                        + "\(verdict.passed ? "pass" : "fail") (\(verdict.reasons.joined(separator: "; ")))"
                )
            }
        case .modelRegistered:
            let data = try event.decode(ModelRegistered.self)
            let name = data.name
            guard Self.isValidName(name) else {
                throw LedgerError(
                    .schema,
                    "data.name: a model name is letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
            }
            let model = try reference(data.model, in: event)
            let evaluationSeq = data.evaluation.seq
            guard let evaluation = evaluations[evaluationSeq], evaluation.modelSeq == model.seq,
                evaluation.artifact == model.sha256
            else {
                throw LedgerError(
                    .policy,
                    "model.registered names evaluation seq \(evaluationSeq), which is not a model.evaluated of model seq "
                        + "\(model.seq)"
                )
            }
            guard evaluation.passed else {
                throw LedgerError(.policy, "the model at seq \(model.seq) failed the gate at seq \(evaluationSeq)")
            }
            let existing = versions[name] ?? []
            let version = data.version
            guard version == existing.count + 1 else {
                throw LedgerError(
                    .policy,
                    "the next version of \(name) is \(existing.count + 1), not \(version)"
                )
            }
            if let twin = registeredArtifacts[name]?[model.sha256] {
                throw LedgerError(.policy, "this artifact is already registered as \(name)@\(twin)")
            }
        case .driftMeasured:
            let data = try event.decode(DriftMeasured.self)
            try requireRecorded(data.reference.dataset, in: datasets, by: .datasetBuilt, for: event)
            try requireRecorded(data.current.dataset, in: datasets, by: .datasetBuilt, for: event)
            try checkDriftVerdict(of: data)
            if let model = data.scores?.model {
                guard version(model.name, model.version)?.artifact == model.sha256 else {
                    throw LedgerError(
                        .policy,
                        "scores.model \(model.name)@\(model.version) is not a registered version with that artifact"
                    )
                }
            }
        default:
            try checkGovernance(event, policy: policy)
        }
    }

    /// Records what a checked event says. Its data matched the catalog's shape, so a decoding failure (which would
    /// be a bug) records nothing.
    mutating func apply(_ event: Event) {
        switch event.eventType {
        case .dataExtracted:
            if let data = try? event.decode(DataExtracted.self) { snapshots[event.seq] = data.snapshot.sha256 }
        case .datasetBuilt:
            if let data = try? event.decode(DatasetBuilt.self) { datasets[event.seq] = data.dataset.sha256 }
        case .modelTrained:
            if let data = try? event.decode(ModelTrained.self) {
                trained[event.seq] = Trained(artifact: data.artifact.sha256, actor: event.actor)
            }
        case .modelEvaluated:
            if let data = try? event.decode(ModelEvaluated.self), let model = try? reference(data.model, in: event) {
                evaluations[event.seq] = Evaluated(
                    modelSeq: model.seq,
                    artifact: model.sha256,
                    passed: data.verdict == .pass
                )
            }
        case .modelRegistered:
            guard let data = try? event.decode(ModelRegistered.self), let model = try? reference(data.model, in: event)
            else { return }
            let name = data.name
            let trainer = trained[model.seq]
            registeredArtifacts[name, default: [:]][model.sha256] = (versions[name]?.count ?? 0) + 1
            versions[name, default: []].append(
                Version(
                    name: name,
                    version: (versions[name]?.count ?? 0) + 1,
                    artifact: model.sha256,
                    registeredAt: event.seq,
                    trainedAt: model.seq,
                    trainedBy: trainer?.actor ?? ""
                )
            )
        default:
            applyGovernance(event)
        }
    }

    /// Requires `named` to be an earlier event of type `type` that recorded that digest (`recorded` maps such
    /// events' seqs to their digests).
    func requireRecorded(
        _ named: RecordedArtifact,
        in recorded: [UInt64: Hash256],
        by type: EventType,
        for event: Event
    ) throws(LedgerError) {
        try requireRecorded(named, by: type, for: event) { recorded[$0] }
    }

    func requireRecorded(
        _ named: RecordedArtifact,
        by type: EventType,
        for event: Event,
        recorded: (UInt64) -> Hash256?
    ) throws(LedgerError) {
        let named = try reference(named, in: event)
        guard recorded(named.seq) == named.sha256 else {
            throw LedgerError(
                .policy,
                "\(event.type) names seq \(named.seq), which is not a \(type) that recorded sha256:"
                    + "\(named.sha256.hex.prefix(12))…"
            )
        }
    }

    /// A `{"seq","sha256"}` reference, which must point before `event`.
    func reference(_ named: RecordedArtifact, in event: Event) throws(LedgerError) -> RecordedArtifact {
        guard named.seq < event.seq else {
            throw LedgerError(.policy, "\(event.type) refers to seq \(named.seq), which is not before seq \(event.seq)")
        }
        return named
    }

    /// The champion comparison a `model.evaluated` records, after checking that it is internally consistent.
    private func comparison(in data: ModelEvaluated) throws(LedgerError) -> Gate.Comparison? {
        switch (data.champion, data.difference) {
        case (nil, nil):
            return nil
        case (let champion?, let difference?):
            guard let registered = version(champion.name, champion.version), registered.artifact == champion.sha256
            else {
                throw LedgerError(
                    .policy,
                    "the champion \(champion.name)@\(champion.version) is not a registered version with that artifact"
                )
            }
            let candidateAuc = data.candidate.aucRoc
            let championAuc = champion.metrics.aucRoc
            guard difference.aucRoc == candidateAuc - championAuc else {
                throw LedgerError(.policy, "difference.aucRoc is not the candidate's AUC-ROC minus the champion's")
            }
            let lower = difference.lower
            let upper = difference.upper
            guard lower <= upper else { throw LedgerError(.policy, "difference.lower is above difference.upper") }
            return Gate.Comparison(championAucRoc: championAuc, lower: lower, upper: upper)
        default:
            throw LedgerError(.schema, "model.evaluated records a champion and a difference together, or neither")
        }
    }
}
