public import LedgerCore
public import LedgerStore

/// Appends random but valid histories through the real append path: pipeline runs that extract, build datasets,
/// measure drift, train, evaluate and register models, and humans who approve, reject, deploy, roll back and
/// retire versions and change the policy.
///
/// Every choice comes from a seeded generator, so a seed names one history. Each action is picked among those the
/// rules allow at that point in the log (it reads ``LedgerState``), so every append succeeds; an append that is
/// refused is a bug in the rules or here, and throws. Artifact digests are made up: the rules check references
/// between events, not the bytes behind them.
public struct GovernanceSimulator {
    /// The keys of a simulated log: an admin, a pipeline, two approvers and a deployer.
    public enum Keys {
        public static let admin = DerivedKeys.key("sim-admin")
        public static let pipeline = DerivedKeys.key("sim-pipeline")
        public static let approvers = [DerivedKeys.key("sim-approver-a"), DerivedKeys.key("sim-approver-b")]
        public static let deployer = DerivedKeys.key("sim-deployer")
    }

    public static let model = "access-anomaly"
    public static let targets = ["production", "staging"]

    private var random: SeededRandom
    private var digests = 0
    private var extracts: [(seq: UInt64, digest: Hash256)] = []
    private var datasets: [(seq: UInt64, digest: Hash256)] = []
    private var trained: [(seq: UInt64, digest: Hash256)] = []
    /// Passing evaluations not yet registered.
    private var passed: [(seq: UInt64, model: UInt64, digest: Hash256)] = []
    private var run: String?
    /// The step events the open run already has: a run records each step at most once.
    private var runSteps: Set<EventType> = []
    private var runs = 0
    /// Artifacts already registered, and the versions each target served, in the order first served.
    private var registered: Set<Hash256> = []
    private var served: [String: [Int]] = [:]
    private let policyWeight: Int

    /// - Parameter policyChanges: how often the policy's number of approvals flips between 1 and 2, in
    ///   hundredths of the weight of an extract. The default (100) makes it about 1 action in 60, so that short
    ///   histories see it often; a real policy changes a few times a year, and `ledger bench projections` uses 1.
    public init(seed: UInt64, policyChanges: Int = 100) {
        random = SeededRandom(seed: seed)
        policyWeight = policyChanges
    }

    /// A new log whose genesis registers the simulator's keys, with a policy that needs `requiredApprovals`.
    public static func makeLedger(
        store: any EventStore = InMemoryEventStore(),
        clock: any LedgerClock = SteppingClock(),
        requiredApprovals: Int = 1
    ) async throws -> Ledger {
        var keys = [
            KeyRecord(publicKey: Keys.admin.publicKey, name: "admin", roles: [.admin, .log]),
            KeyRecord(publicKey: Keys.pipeline.publicKey, name: "pipeline", roles: [.pipeline]),
            KeyRecord(publicKey: Keys.deployer.publicKey, name: "deployer", roles: [.deployer]),
        ]
        for (index, key) in Keys.approvers.enumerated() {
            keys.append(KeyRecord(publicKey: key.publicKey, name: "approver-\(index + 1)", roles: [.approver]))
        }
        return try await Ledger.create(
            store: store,
            clock: clock,
            logID: "sim.modelledger/log",
            keys: keys,
            policy: Policy(requiredApprovals: requiredApprovals),
            signedBy: Keys.admin
        )
    }

    /// Appends `count` actions (each one event, or two for an evaluation that registers) and returns what was
    /// appended.
    @discardableResult
    public mutating func run(_ count: Int, on ledger: Ledger) async throws -> [SignedEvent] {
        var appended: [SignedEvent] = []
        for _ in 0..<count { appended += try await step(on: ledger) }
        return appended
    }

    /// Picks one action the rules allow now and appends it.
    public mutating func step(on ledger: Ledger) async throws -> [SignedEvent] {
        let state = await ledger.state
        let (drafts, key) = next(state)
        let appended = try await ledger.append(drafts, signedBy: key)
        record(appended)
        return appended
    }

    /// Appends a whole passing pipeline chain (extract, dataset, training, a first-model evaluation that passes,
    /// registration) and returns the new version: for scripted histories.
    public mutating func registerVersion(on ledger: Ledger) async throws -> ModelRules.Version {
        for action in [Action.extract, .buildDataset, .train] {
            let state = await ledger.state
            guard let (drafts, key) = perform(action, state) else { continue }
            record(try await ledger.append(drafts, signedBy: key))
        }
        let state = await ledger.state
        guard let model = trained.last, let dataset = datasets.last else { throw LedgerError(.storage, "no model") }
        guard var (drafts, key) = evaluation(of: model, on: dataset, candidate: 0.95, champion: nil, state) else {
            throw LedgerError(.storage, "no evaluation")
        }
        record(try await ledger.append(drafts, signedBy: key))
        guard let registration = register(await ledger.state) else { throw LedgerError(.storage, "not passed") }
        (drafts, key) = registration
        record(try await ledger.append(drafts, signedBy: key))
        let versions = await ledger.state.models.versions[Self.model] ?? []
        guard let version = versions.last else { throw LedgerError(.storage, "not registered") }
        return version
    }

    private enum Action {
        case extract, note, startRun, endRun, failStep, buildDataset, measureDrift, train, evaluate, register
        case approve, reject, deploy, rollBack, retire, setPolicy
    }

    private mutating func next(_ state: LedgerState) -> ([EventDraft], SigningKey) {
        // Weights in hundredths. Decisions and deployments sample recent versions rather than filter them all, so
        // that a step costs the same however long the history is.
        var choices: [(weight: Int, action: Action)] = [(600, .extract), (300, .note), (policyWeight, .setPolicy)]
        choices.append(run == nil ? (300, .startRun) : (300, .endRun))
        if run != nil { choices.append((100, .failStep)) }
        if !extracts.isEmpty { choices.append((600, .buildDataset)) }
        if datasets.count >= 2 { choices.append((200, .measureDrift)) }
        if !datasets.isEmpty { choices.append((600, .train)) }
        if !trained.isEmpty { choices.append((600, .evaluate)) }
        if !passed.isEmpty { choices.append((600, .register)) }
        if state.models.versions[Self.model]?.isEmpty == false {
            choices += [(800, .approve), (100, .reject), (600, .deploy), (300, .rollBack), (200, .retire)]
        }
        let total = UInt64(choices.reduce(0) { $0 + $1.weight })
        while true {
            var pick = Int(random.next() % total)
            guard
                let choice = choices.first(where: {
                    pick -= $0.weight
                    return pick < 0
                })
            else { continue }
            if let drafts = perform(choice.action, state) { return drafts }
        }
    }

    /// One of the last `recent` versions (all when nil) that `accept`s, after at most eight tries.
    private mutating func sample(
        _ state: LedgerState,
        recent: Int? = 32,
        where accept: (ModelRules.Version) -> Bool
    ) -> ModelRules.Version? {
        let versions = state.models.versions[Self.model] ?? []
        guard !versions.isEmpty else { return nil }
        let window = recent.map { min($0, versions.count) } ?? versions.count
        for _ in 0..<8 {
            let version = versions[versions.count - 1 - Int(random.next() % UInt64(window))]
            if accept(version) { return version }
        }
        return nil
    }

    private mutating func perform(_ action: Action, _ state: LedgerState) -> ([EventDraft], SigningKey)? {
        switch action {
        case .extract: extract()
        case .note: note()
        case .startRun: startRun()
        case .endRun: endRun()
        case .failStep: failStep()
        case .buildDataset: buildDataset()
        case .measureDrift: measureDrift(state)
        case .train: train()
        case .evaluate: evaluate(state)
        case .register: register(state)
        case .approve: decide(.modelApproved, state)
        case .reject: decide(.modelRejected, state)
        case .deploy: deploy(state)
        case .rollBack: rollBack(state)
        case .retire: retire(state)
        case .setPolicy: setPolicy(state)
        }
    }

    /// Learns the seqs of what was appended, so later events can refer to them. The ledger accepted these events,
    /// so their data decodes.
    private mutating func record(_ appended: [SignedEvent]) {
        for signed in appended {
            let event = signed.event
            switch event.eventType {
            case .dataExtracted:
                if let data = try? event.decode(DataExtracted.self) {
                    extracts.append((event.seq, data.snapshot.sha256))
                }
            case .datasetBuilt:
                if let data = try? event.decode(DatasetBuilt.self) { datasets.append((event.seq, data.dataset.sha256)) }
            case .modelTrained:
                if let data = try? event.decode(ModelTrained.self) { trained.append((event.seq, data.artifact.sha256)) }
            case .modelEvaluated:
                if let data = try? event.decode(ModelEvaluated.self), data.verdict == .pass {
                    passed.append((event.seq, data.model.seq, data.model.sha256))
                }
            case .modelRegistered:
                guard let data = try? event.decode(ModelRegistered.self) else { break }
                passed.removeAll { $0.model == data.model.seq }
                registered.insert(data.model.sha256)
            case .modelDeployed:
                if let data = try? event.decode(ModelDeployed.self) { served(data.version, at: data.target) }
            case .modelRolledBack:
                if let data = try? event.decode(ModelRolledBack.self) { served(data.to.version, at: data.target) }
            case .runStarted:
                run = try? event.decode(RunStarted.self).run
                runSteps = []
            case .runCompleted, .runFailed: run = nil
            default: break
            }
            if let type = event.eventType, Self.runStepTypes.contains(type), (try? RunRules.run(of: event)) != nil {
                runSteps.insert(type)
            }
        }
    }

    private mutating func served(_ version: Int, at target: String) {
        if served[target]?.contains(version) != true { served[target, default: []].append(version) }
    }

    // MARK: - Actions

    private mutating func freshDigest() -> Hash256 {
        digests += 1
        return Hash256.sha256(Array("sim-artifact-\(digests)-\(random.next())".utf8))
    }

    /// The event types that record a run's step.
    static let runStepTypes: Set<EventType> = [
        .dataExtracted, .datasetBuilt, .driftMeasured, .modelTrained, .modelEvaluated, .modelRegistered,
    ]

    /// The open run, if it has no event of `type` yet; otherwise nil (outside any run).
    private func runID(for type: EventType) -> String? {
        guard let run, !runSteps.contains(type) else { return nil }
        return run
    }

    /// A pipeline step's event, naming the open run if it has none of this kind yet.
    private func pipeline<Data: EventData>(_ data: Data) -> ([EventDraft], SigningKey)? {
        guard let draft = try? EventDraft(data, subject: []) else { return nil }
        return ([draft], Keys.pipeline)
    }

    private func signed<Data: EventData>(_ data: Data, by key: SigningKey) -> ([EventDraft], SigningKey)? {
        guard let draft = try? EventDraft(data, subject: []) else { return nil }
        return ([draft], key)
    }

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    private static let window = TimeWindow(
        from: Timestamp(rfc3339: "2026-03-02T00:00:00.000Z") ?? Timestamp(millisecondsSinceEpoch: 0),
        to: Timestamp(rfc3339: "2026-03-09T00:00:00.000Z") ?? Timestamp(millisecondsSinceEpoch: 0)
    )

    private mutating func extract() -> ([EventDraft], SigningKey)? {
        let queryDigest = freshDigest()
        let rows = Int(1 + random.next() % 100_000)
        let snapshot = freshDigest()
        return pipeline(
            DataExtracted(
                source: .init(kind: .sqlite),
                queryDigest: queryDigest,
                window: Self.window,
                rows: rows,
                snapshot: ContentDigest(sha256: snapshot),
                policy: .refuse,
                quarantined: .init(),
                run: runID(for: .dataExtracted)
            )
        )
    }

    private mutating func buildDataset() -> ([EventDraft], SigningKey)? {
        let source = pick(extracts)
        let dataset = freshDigest()
        let manifest = freshDigest()
        return pipeline(
            DatasetBuilt(
                extract: .init(seq: source.seq, snapshot: ContentDigest(sha256: source.digest)),
                featureSpec: .init(version: 1, sha256: Hash256.sha256(Array("spec".utf8))),
                dataset: ContentDigest(sha256: dataset),
                manifest: ContentDigest(sha256: manifest),
                split: .init(
                    holdoutFrom: Timestamp(rfc3339: "2026-03-07T00:00:00.000Z") ?? Self.window.from,
                    holdoutPercent: 20
                ),
                rows: .init(train: 800, holdout: 200),
                labelled: .init(train: .init(anomalous: 0, benign: 0), holdout: .init(anomalous: 10, benign: 190)),
                run: runID(for: .datasetBuilt)
            )
        )
    }

    private mutating func train() -> ([EventDraft], SigningKey)? {
        let dataset = pick(datasets)
        let seed = random.next() % 1_000_000
        let artifact = freshDigest()
        let duration = Int64(random.next() % 5000)
        return pipeline(
            ModelTrained(
                algorithm: "isolation-forest",
                trainer: .init(version: "ledger-iforest/1"),
                parameters: ["trees": 100],
                seed: seed,
                dataset: RecordedArtifact(seq: dataset.seq, sha256: dataset.digest),
                features: ["failed_logins_1h", "distinct_ips_24h"],
                rows: 800,
                artifact: ContentDigest(sha256: artifact),
                durationMs: duration,
                run: runID(for: .modelTrained)
            )
        )
    }

    private mutating func evaluate(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let model = pick(trained)
        let dataset = pick(datasets)
        // Two decimals, so that a difference is exactly what the rules recompute from the JSON.
        let candidate = (50 + Double(random.next() % 50)) / 100
        var champion: (ModelRules.Version, Double)?
        if let serving = state.models.targets["production"]?.current,
            let version = state.models.version(serving.name, serving.version), random.next() % 3 != 0
        {
            champion = (version, (50 + Double(random.next() % 50)) / 100)
        }
        return evaluation(of: model, on: dataset, candidate: candidate, champion: champion, state)
    }

    private func evaluation(
        of model: (seq: UInt64, digest: Hash256),
        on dataset: (seq: UInt64, digest: Hash256),
        candidate: Double,
        champion: (version: ModelRules.Version, aucRoc: Double)?,
        _ state: LedgerState
    ) -> ([EventDraft], SigningKey)? {
        let metrics = { (auc: Double) -> HoldoutMetrics in
            HoldoutMetrics(aucRoc: auc, averagePrecision: 0.5, precisionAtK: 0.4, recallAtBudget: 0.6)
        }
        var comparison: Gate.Comparison?
        var championData: ModelEvaluated.Champion?
        var differenceData: ModelEvaluated.Difference?
        if let (champion, championAuc) = champion {
            let difference = candidate - championAuc
            comparison = Gate.Comparison(
                championAucRoc: championAuc,
                lower: difference - 0.03,
                upper: difference + 0.03
            )
            championData = .init(
                name: champion.name,
                version: champion.version,
                sha256: champion.artifact,
                metrics: metrics(championAuc)
            )
            differenceData = .init(
                aucRoc: difference,
                lower: difference - 0.03,
                upper: difference + 0.03,
                confidence: 0.95,
                replicates: 1000,
                seed: 7
            )
        }
        let verdict = state.policy.gate.verdict(candidateAucRoc: candidate, champion: comparison)
        return pipeline(
            ModelEvaluated(
                model: RecordedArtifact(seq: model.seq, sha256: model.digest),
                holdout: .init(
                    dataset: RecordedArtifact(seq: dataset.seq, sha256: dataset.digest),
                    rows: 200,
                    anomalous: 10
                ),
                alertBudget: .init(fraction: 0.05, k: 10),
                candidate: metrics(candidate),
                policy: ContentDigest(sha256: state.policy.digest),
                verdict: verdict.passed ? .pass : .fail,
                reasons: verdict.reasons,
                run: runID(for: .modelEvaluated),
                champion: championData,
                difference: differenceData
            )
        )
    }

    private mutating func register(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        guard !passed.isEmpty else { return nil }
        let evaluation = pick(passed)
        let versions = state.models.versions[Self.model] ?? []
        guard !registered.contains(evaluation.digest) else {
            passed.removeAll { $0.model == evaluation.model }
            return nil
        }
        return pipeline(
            ModelRegistered(
                name: Self.model,
                version: versions.count + 1,
                model: RecordedArtifact(seq: evaluation.model, sha256: evaluation.digest),
                evaluation: .init(seq: evaluation.seq),
                run: runID(for: .modelRegistered)
            )
        )
    }

    private mutating func decide(_ type: EventType, _ state: LedgerState) -> ([EventDraft], SigningKey)? {
        guard let version = sample(state, where: { $0.retiredAt == nil && $0.rejections.isEmpty }) else { return nil }
        let decided = Set((version.approvals + version.rejections).map(\.actor))
        let keys = Keys.approvers.filter { !decided.contains($0.keyID) && $0.keyID != version.trainedBy }
        guard !keys.isEmpty else { return nil }
        let reason = "simulated \(type.rawValue)"
        let key = pick(keys)
        if type == .modelApproved {
            return signed(
                ModelApproved(name: version.name, version: version.version, sha256: version.artifact, reason: reason),
                by: key
            )
        }
        return signed(
            ModelRejected(name: version.name, version: version.version, sha256: version.artifact, reason: reason),
            by: key
        )
    }

    private mutating func deploy(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let required = state.policy.requiredApprovals
        let target = pick(Self.targets)
        let current = state.models.targets[target]?.current
        guard
            let version = sample(
                state,
                where: {
                    $0.retiredAt == nil && $0.rejections.isEmpty && $0.approvals.count >= required
                        && !(current?.name == $0.name && current?.version == $0.version)
                }
            )
        else { return nil }
        return signed(
            ModelDeployed(name: version.name, version: version.version, sha256: version.artifact, target: target),
            by: Keys.deployer
        )
    }

    private mutating func rollBack(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let target = pick(Self.targets)
        guard let current = state.models.targets[target]?.current,
            let from = state.models.version(current.name, current.version), let history = served[target]
        else { return nil }
        var destination: ModelRules.Version?
        for _ in 0..<8 where destination == nil {
            let number = history[history.count - 1 - Int(random.next() % UInt64(min(history.count, 32)))]
            if number != current.version, let version = state.models.version(current.name, number),
                version.retiredAt == nil, version.rejections.isEmpty
            {
                destination = version
            }
        }
        guard let to = destination else { return nil }
        return signed(
            ModelRolledBack(
                name: current.name,
                target: target,
                from: .init(version: from.version, sha256: from.artifact),
                to: .init(version: to.version, sha256: to.artifact),
                reason: "simulated rollback"
            ),
            by: Keys.deployer
        )
    }

    private mutating func retire(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let serving = Set(state.models.targets.values.compactMap { $0.current.map { "\($0.name)@\($0.version)" } })
        guard
            let version = sample(
                state,
                recent: nil,
                where: { $0.retiredAt == nil && !serving.contains("\($0.name)@\($0.version)") }
            )
        else { return nil }
        return signed(
            ModelRetired(name: version.name, version: version.version, sha256: version.artifact),
            by: Keys.deployer
        )
    }

    private mutating func setPolicy(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let policy = Policy(requiredApprovals: state.policy.requiredApprovals == 1 ? 2 : 1)
        return signed(PolicySet(policy: policy.data), by: Keys.admin)
    }

    private mutating func note() -> ([EventDraft], SigningKey)? {
        signed(NoteAdded(text: "note \(random.next() % 1000)"), by: Keys.admin)
    }

    private mutating func startRun() -> ([EventDraft], SigningKey)? {
        runs += 1
        let run = "\(Self.model)/run-\(runs)-\(random.next() % 1_000_000)"
        let trigger = pick([RunStarted.Trigger.schedule, .manual, .drift])
        let config = freshDigest()
        return signed(
            RunStarted(
                run: run,
                trigger: trigger,
                window: Self.window,
                config: ContentDigest(sha256: config),
                code: .init(version: "0.1.0")
            ),
            by: Keys.pipeline
        )
    }

    private mutating func failStep() -> ([EventDraft], SigningKey)? {
        guard let run else { return nil }
        let step = pick(EventCatalog.stepNames)
        let attempt = Int(1 + random.next() % 3)
        let retry = Int64(random.next() % 10_000)
        return signed(
            StepFailed(
                run: run,
                step: step,
                attempt: attempt,
                error: StepError(errorClass: .transient, code: "store.failure", message: "simulated outage"),
                retryInMs: retry
            ),
            by: Keys.pipeline
        )
    }

    private mutating func endRun() -> ([EventDraft], SigningKey)? {
        guard let run else { return nil }
        if random.next() % 4 == 0 {
            return signed(
                RunFailed(
                    run: run,
                    step: pick(EventCatalog.stepNames),
                    error: StepError(errorClass: .permanent, code: "trainer.failed", message: "simulated failure")
                ),
                by: Keys.pipeline
            )
        }
        return signed(RunCompleted(run: run), by: Keys.pipeline)
    }

    private mutating func measureDrift(_ state: LedgerState) -> ([EventDraft], SigningKey)? {
        let reference = pick(datasets)
        let current = pick(datasets)
        let psis = (0..<3).map { _ in Double(random.next() % 40) / 100 }
        let worst = psis.max() ?? 0
        let verdict: DriftMeasured.Verdict = worst >= 0.25 ? .significant : worst >= 0.1 ? .moderate : .stable
        let features = zip(["failed_logins_1h", "distinct_ips_24h", "bytes_out_1h"], psis).map { name, psi in
            DriftMeasured.Feature(
                name: name,
                psi: psi,
                ks: KolmogorovSmirnov(statistic: psi / 2, pValue: 1 - psi),
                wasserstein: psi * 3
            )
        }
        return pipeline(
            DriftMeasured(
                reference: .init(dataset: RecordedArtifact(seq: reference.seq, sha256: reference.digest)),
                current: .init(dataset: RecordedArtifact(seq: current.seq, sha256: current.digest)),
                features: features,
                thresholds: .init(moderate: 0.1, significant: 0.25),
                verdict: verdict,
                run: runID(for: .driftMeasured)
            )
        )
    }
}
