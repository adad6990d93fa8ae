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
        switch event.type {
        case "dataset.built":
            try requireRecorded(
                event.data["extract"]?["seq"],
                event.data["extract"]?["snapshot"]?["sha256"],
                in: snapshots,
                by: "data.extracted",
                for: event
            )
        case "model.trained":
            try requireRecorded(event.data["dataset"], in: datasets, by: "dataset.built", for: event)
        case "model.evaluated":
            try requireRecorded(event.data["model"], by: "model.trained", for: event) { trained[$0]?.artifact }
            try requireRecorded(event.data["holdout"]?["dataset"], in: datasets, by: "dataset.built", for: event)
            guard event.data["policy"]?["sha256"]?.stringValue == policy.digest.hex else {
                throw LedgerError(.policy, "model.evaluated was judged under a policy that is not the one in force")
            }
            let comparison = try comparison(in: event)
            let candidate = event.data["candidate"]?["aucRoc"]?.doubleValue ?? .nan
            let verdict = policy.gate.verdict(candidateAucRoc: candidate, champion: comparison)
            guard (event.data["verdict"]?.stringValue == "pass") == verdict.passed else {
                throw LedgerError(
                    .policy,
                    "model.evaluated's verdict does not follow from its metrics under the policy: the gate says "
                        + "\(verdict.passed ? "pass" : "fail") (\(verdict.reasons.joined(separator: "; ")))"
                )
            }
        case "model.registered":
            let name = event.data["name"]?.stringValue ?? ""
            guard Self.isValidName(name) else {
                throw LedgerError(
                    .schema,
                    "data.name: a model name is letters, digits, '.', '_' and '-', starting with a letter or digit"
                )
            }
            let model = try reference(event.data["model"], in: event)
            let evaluationSeq = event.data["evaluation"]?["seq"]?.integerValue.flatMap { UInt64(exactly: $0) } ?? .max
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
            let version = Int(event.data["version"]?.integerValue ?? 0)
            guard version == existing.count + 1 else {
                throw LedgerError(
                    .policy,
                    "the next version of \(name) is \(existing.count + 1), not \(version)"
                )
            }
            if let twin = registeredArtifacts[name]?[model.sha256] {
                throw LedgerError(.policy, "this artifact is already registered as \(name)@\(twin)")
            }
        case "drift.measured":
            try requireRecorded(event.data["reference"]?["dataset"], in: datasets, by: "dataset.built", for: event)
            try requireRecorded(event.data["current"]?["dataset"], in: datasets, by: "dataset.built", for: event)
            try checkDriftVerdict(of: event)
            if let model = event.data["scores"]?["model"] {
                let name = model["name"]?.stringValue ?? ""
                let number = Int(model["version"]?.integerValue ?? 0)
                guard version(name, number)?.artifact.hex == model["sha256"]?.stringValue else {
                    throw LedgerError(
                        .policy,
                        "scores.model \(name)@\(number) is not a registered version with that artifact"
                    )
                }
            }
        default:
            try checkGovernance(event, policy: policy)
        }
    }

    mutating func apply(_ event: Event) {
        switch event.type {
        case "data.extracted":
            if let digest = event.data["snapshot"]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:)) {
                snapshots[event.seq] = digest
            }
        case "dataset.built":
            if let digest = event.data["dataset"]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:)) {
                datasets[event.seq] = digest
            }
        case "model.trained":
            if let digest = event.data["artifact"]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:)) {
                trained[event.seq] = Trained(artifact: digest, actor: event.actor)
            }
        case "model.evaluated":
            if let model = try? reference(event.data["model"], in: event) {
                evaluations[event.seq] = Evaluated(
                    modelSeq: model.seq,
                    artifact: model.sha256,
                    passed: event.data["verdict"]?.stringValue == "pass"
                )
            }
        case "model.registered":
            guard let name = event.data["name"]?.stringValue, let model = try? reference(event.data["model"], in: event)
            else { return }
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

    /// Requires the `{"seq","sha256"}` reference `json` to name an earlier event of type `type` that recorded that
    /// digest (`recorded` maps such events' seqs to their digests).
    func requireRecorded(
        _ json: JSONValue?,
        in recorded: [UInt64: Hash256],
        by type: String,
        for event: Event
    ) throws(LedgerError) {
        try requireRecorded(json?["seq"], json?["sha256"], by: type, for: event) { recorded[$0] }
    }

    func requireRecorded(
        _ json: JSONValue?,
        by type: String,
        for event: Event,
        recorded: (UInt64) -> Hash256?
    ) throws(LedgerError) {
        try requireRecorded(json?["seq"], json?["sha256"], by: type, for: event, recorded: recorded)
    }

    private func requireRecorded(
        _ seqJSON: JSONValue?,
        _ digestJSON: JSONValue?,
        in recorded: [UInt64: Hash256],
        by type: String,
        for event: Event
    ) throws(LedgerError) {
        try requireRecorded(seqJSON, digestJSON, by: type, for: event) { recorded[$0] }
    }

    private func requireRecorded(
        _ seqJSON: JSONValue?,
        _ digestJSON: JSONValue?,
        by type: String,
        for event: Event,
        recorded: (UInt64) -> Hash256?
    ) throws(LedgerError) {
        let named = try reference(seqJSON, digestJSON, in: event)
        guard recorded(named.seq) == named.sha256 else {
            throw LedgerError(
                .policy,
                "\(event.type) names seq \(named.seq), which is not a \(type) that recorded sha256:"
                    + "\(named.sha256.hex.prefix(12))…"
            )
        }
    }

    /// Reads a `{"seq","sha256"}` reference that must point before `event`.
    func reference(_ json: JSONValue?, in event: Event) throws(LedgerError) -> (seq: UInt64, sha256: Hash256) {
        try reference(json?["seq"], json?["sha256"], in: event)
    }

    private func reference(
        _ seqJSON: JSONValue?,
        _ digestJSON: JSONValue?,
        in event: Event
    ) throws(LedgerError) -> (seq: UInt64, sha256: Hash256) {
        guard let seq = seqJSON?.integerValue, seq >= 0,
            let digest = digestJSON?.stringValue.flatMap(Hash256.init(hex:))
        else { throw LedgerError(.schema, "\(event.type): a reference needs a seq and a sha256") }
        guard UInt64(seq) < event.seq else {
            throw LedgerError(.policy, "\(event.type) refers to seq \(seq), which is not before seq \(event.seq)")
        }
        return (UInt64(seq), digest)
    }

    /// The champion comparison a `model.evaluated` records, after checking that it is internally consistent.
    private func comparison(in event: Event) throws(LedgerError) -> Gate.Comparison? {
        let champion = event.data["champion"]
        let difference = event.data["difference"]
        switch (champion, difference) {
        case (nil, nil):
            return nil
        case (let champion?, let difference?):
            let name = champion["name"]?.stringValue ?? ""
            let number = Int(champion["version"]?.integerValue ?? 0)
            guard let registered = version(name, number),
                registered.artifact.hex == champion["sha256"]?.stringValue
            else {
                throw LedgerError(
                    .policy,
                    "the champion \(name)@\(number) is not a registered version with that artifact"
                )
            }
            let candidateAuc = event.data["candidate"]?["aucRoc"]?.doubleValue ?? .nan
            let championAuc = champion["metrics"]?["aucRoc"]?.doubleValue ?? .nan
            guard difference["aucRoc"]?.doubleValue == candidateAuc - championAuc else {
                throw LedgerError(.policy, "difference.aucRoc is not the candidate's AUC-ROC minus the champion's")
            }
            let lower = difference["lower"]?.doubleValue ?? .nan
            let upper = difference["upper"]?.doubleValue ?? .nan
            guard lower <= upper else { throw LedgerError(.policy, "difference.lower is above difference.upper") }
            return Gate.Comparison(championAucRoc: championAuc, lower: lower, upper: upper)
        default:
            throw LedgerError(.schema, "model.evaluated records a champion and a difference together, or neither")
        }
    }
}
