public import LedgerArtifacts
public import LedgerCore
import LedgerML
public import LedgerStore

/// The pipeline's steps (extract, build the dataset, measure drift, train, evaluate and register): each reads its
/// inputs from the log and the artifact store, does its work, stores its artifacts, and appends its events signed
/// with the pipeline key. A step given a `run` id records it, so that the event counts as that run's step.
///
/// Nothing is appended until a step's work has succeeded and its artifacts are stored, so a failure (a bad
/// dataset, a trainer that crashes, a holdout without anomalies) leaves the log as it was.
public struct PipelineSteps: Sendable {
    public let ledger: Ledger
    public let artifacts: any ArtifactStore
    public let signer: SigningKey
    /// The folder an external trainer runs in (the workspace).
    public let workingDirectory: String
    /// Threads for the built-in trainer and scorer; results never depend on it.
    public let threads: Int
    /// Called with the event type after a step's work is done and its artifacts are stored, just before its
    /// event is appended: the last instant at which a crash loses the step. Tests use it to crash there.
    public var willAppend: (@Sendable (String) async -> Void)?

    public init(
        ledger: Ledger,
        artifacts: any ArtifactStore,
        signer: SigningKey,
        workingDirectory: String,
        threads: Int = 1
    ) {
        self.ledger = ledger
        self.artifacts = artifacts
        self.signer = signer
        self.workingDirectory = workingDirectory
        self.threads = threads
    }

    /// What ``train(dataset:trainer:seed:)`` appended.
    public struct Trained: Sendable {
        public let seq: UInt64
        /// The `model.trained` event as stored.
        public let event: Event
        public let artifact: ArtifactDigest
        public let dataset: ArtifactDigest
        public let rows: Int
        public let durationMs: Int
    }

    /// The default seed of a dataset: its digest's first eight bytes, shifted right by 11 so that it is an exact
    /// JSON integer (below 2^53). Recorded in `model.trained` like any seed.
    public static func defaultSeed(for dataset: Hash256) -> UInt64 {
        dataset.bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } >> 11
    }

    /// The largest seed an event can record exactly.
    public static let maxSeed: UInt64 = (1 << 53) - 1

    /// Trains `trainer` on the dataset with digest `dataset` (recorded by a `dataset.built` event) and appends
    /// `model.trained`.
    public func train(
        dataset: ArtifactDigest,
        trainer: any Trainer,
        seed: UInt64?,
        run: String? = nil
    ) async throws(LedgerError) -> Trained {
        let state = await ledger.state
        guard let datasetSeq = state.models.datasetSeq(of: dataset.sha256) else {
            throw LedgerError(.invalidArgument, "no dataset.built event in the log recorded the dataset \(dataset)")
        }
        let seed = seed ?? Self.defaultSeed(for: dataset.sha256)
        guard seed <= Self.maxSeed else {
            throw LedgerError(
                .invalidArgument,
                "the seed must be at most 2^53 - 1 so that the event records it exactly"
            )
        }
        let csv = try await artifacts.get(dataset)
        let data = try TrainingData(csv: csv)
        let identity = try trainer.identity()
        let clock = ContinuousClock()
        let started = clock.now
        let model = try trainer.train(data, datasetCSV: csv, seed: seed)
        let durationMs = Int((started.duration(to: clock.now).inSeconds * 1000).rounded())
        let artifact = try await artifacts.put(model)
        let recorded = ModelTrained(
            algorithm: identity.algorithm,
            trainer: .init(
                version: identity.version,
                command: identity.command,
                files: identity.command == nil
                    ? nil : identity.files.map { ModelTrained.File(path: $0.path, sha256: $0.sha256) },
                environment: identity.environment.map { .object($0.mapValues(JSONValue.string)) }
            ),
            parameters: trainer.parameters,
            seed: seed,
            dataset: RecordedArtifact(seq: UInt64(datasetSeq), sha256: dataset.sha256),
            features: data.featureNames,
            rows: data.train.rows,
            artifact: ContentDigest(sha256: artifact.sha256),
            durationMs: Int64(durationMs),
            run: run
        )
        let event = try await appendOne(
            try EventDraft(
                recorded,
                subject: [
                    Subject(name: "model", sha256: artifact.sha256), Subject(name: "dataset", sha256: dataset.sha256),
                ]
            )
        )
        return Trained(
            seq: event.seq,
            event: event,
            artifact: artifact,
            dataset: dataset,
            rows: data.train.rows,
            durationMs: durationMs
        )
    }

    /// What ``evaluate(model:champion:settings:registerAs:)`` appended.
    public struct Evaluated: Sendable {
        public let seq: UInt64
        public let judgement: Judgement
        /// `(name, version, seq)` of the new version, when the gate passed.
        public let registered: (name: String, version: Int, seq: UInt64)?
        /// The version this artifact already had under the name, if any: it is not registered twice.
        public let alreadyRegistered: ModelRules.Version?
        /// The events appended: `model.evaluated`, then `model.registered` if the gate passed.
        public let events: [Event]
    }

    /// Scores the model with artifact `model` and the champion (if any) on the labelled holdout rows of the model's
    /// own dataset, appends `model.evaluated`, and, if the gate passes, `model.registered` as the next version of
    /// `registerAs`, in the same atomic append. A model already registered under that name is evaluated again but
    /// not registered twice.
    public func evaluate(
        model: ArtifactDigest,
        champion: ModelRules.Version?,
        settings: EvaluationSettings,
        registerAs name: String,
        run: String? = nil
    ) async throws(LedgerError) -> Evaluated {
        guard ModelRules.isValidName(name) else {
            throw LedgerError(
                .invalidArgument,
                "the model name \"\(name)\" must be letters, digits, '.', '_' and '-', starting with a letter or digit"
            )
        }
        let state = await ledger.state
        guard let trainedSeq = state.models.trainedSeq(of: model.sha256) else {
            throw LedgerError(.invalidArgument, "no model.trained event in the log recorded the model \(model)")
        }
        let log = LogReader(store: ledger.store)
        let (trained, trainedData) = try await log.event(at: trainedSeq, of: ModelTrained.self)
        let datasetSeq = trainedData.dataset.seq
        let datasetHash = trainedData.dataset.sha256
        let data = try TrainingData(csv: try await artifacts.get(ArtifactDigest(sha256: datasetHash)))
        let holdout = data.holdoutLabels
        guard holdout.contains(1), holdout.contains(0) else {
            throw LedgerError(
                .invalidArgument,
                "the dataset's holdout has \(holdout.count(where: { $0 == 1 })) labelled anomalous and "
                    + "\(holdout.count(where: { $0 == 0 })) labelled benign rows: the metrics need both"
            )
        }
        let candidateScores = try scorer(for: trained).scores(model: try await artifacts.get(model), rows: data.holdout)
        var championScores: [Double]?
        if let champion {
            let (championEvent, championData) = try await log.event(at: champion.trainedAt, of: ModelTrained.self)
            guard championData.features.elementsEqual(trainedData.features, by: { $0.hasSameBytes(as: $1) }) else {
                throw LedgerError(
                    .invalidArgument,
                    "the champion \(champion.name)@\(champion.version) was trained on other features than the candidate"
                )
            }
            championScores = try scorer(for: championEvent).scores(
                model: try await artifacts.get(ArtifactDigest(sha256: champion.artifact)),
                rows: data.holdout
            )
        }
        let bootstrapSeed = Self.defaultSeed(for: Hash256.sha256(model.sha256.bytes + datasetHash.bytes))
        let judgement = try Judgement(
            candidateScores: candidateScores,
            championScores: championScores,
            labels: holdout,
            policy: state.policy,
            settings: settings,
            bootstrapSeed: bootstrapSeed
        )
        func recorded(_ metrics: ModelMetrics) -> HoldoutMetrics {
            HoldoutMetrics(
                aucRoc: metrics.aucRoc,
                averagePrecision: metrics.averagePrecision,
                precisionAtK: metrics.precisionAtK,
                recallAtBudget: metrics.recallAtBudget
            )
        }
        var evaluation = ModelEvaluated(
            model: RecordedArtifact(seq: trainedSeq, sha256: model.sha256),
            holdout: .init(
                dataset: RecordedArtifact(seq: datasetSeq, sha256: datasetHash),
                rows: holdout.count,
                anomalous: holdout.count(where: { $0 == 1 })
            ),
            alertBudget: .init(fraction: settings.alertBudget, k: judgement.k),
            candidate: recorded(judgement.candidate),
            policy: ContentDigest(sha256: state.policy.digest),
            verdict: judgement.verdict.passed ? .pass : .fail,
            reasons: judgement.verdict.reasons,
            run: run
        )
        if let champion, let metrics = judgement.champion, let difference = judgement.difference {
            evaluation.champion = .init(
                name: champion.name,
                version: champion.version,
                sha256: champion.artifact,
                metrics: recorded(metrics)
            )
            evaluation.difference = .init(
                aucRoc: difference.aucRoc,
                lower: difference.lower,
                upper: difference.upper,
                confidence: settings.confidence,
                replicates: settings.replicates,
                seed: bootstrapSeed
            )
        }
        let evaluated = try EventDraft(evaluation, subject: [Subject(name: "model", sha256: model.sha256)])
        await willAppend?(EventType.modelEvaluated.rawValue)
        // The version number and the evaluation's seq come from the state the batch is signed against, so a
        // concurrent append (an approval, another model) cannot make the registration name the wrong ones.
        let appended = try await ledger.append(signedBy: signer) { (state) throws(LedgerError) in
            let versions = state.models.versions[name] ?? []
            guard judgement.verdict.passed, !versions.contains(where: { $0.artifact == model.sha256 }) else {
                return [evaluated]
            }
            let registration = ModelRegistered(
                name: name,
                version: versions.count + 1,
                model: RecordedArtifact(seq: trainedSeq, sha256: model.sha256),
                evaluation: .init(seq: state.size),
                run: run
            )
            return [evaluated, try EventDraft(registration, subject: [Subject(name: "model", sha256: model.sha256)])]
        }
        let events = appended.map(\.event)
        let registered = try events.dropFirst().first.map { (event) throws(LedgerError) in
            (name: name, version: try event.decode(ModelRegistered.self).version, seq: event.seq)
        }
        return Evaluated(
            seq: events.first?.seq ?? 0,
            judgement: judgement,
            registered: registered,
            alreadyRegistered: registered == nil
                ? await ledger.state.models.versions[name]?.first { $0.artifact == model.sha256 } : nil,
            events: events
        )
    }

    /// Appends one step's event, after telling ``willAppend``; returns it as stored.
    func appendOne(_ draft: EventDraft) async throws(LedgerError) -> Event {
        await willAppend?(draft.type)
        guard let event = try await ledger.append([draft], signedBy: signer).first?.event else {
            throw LedgerError(.storage, "the append of \(draft.type) returned no event")
        }
        return event
    }

    /// The trainer that can score a model, as its `model.trained` event names it.
    func scorer(for trained: Event) throws(LedgerError) -> any Trainer {
        try Trainers.recorded(in: trained, workingDirectory: workingDirectory, threads: threads)
    }
}

/// Finds trainers by what a `model.trained` event recorded.
public enum Trainers {
    /// The trainer a `model.trained` event recorded, rebuilt from the event alone: it scores that model, and
    /// retrains it for `ledger reproduce`. Throws for an algorithm or parameters this build does not know, rather
    /// than guessing.
    public static func recorded(
        in trained: Event,
        workingDirectory: String,
        threads: Int
    ) throws(LedgerError)
        -> any Trainer
    {
        let data = try trained.decode(ModelTrained.self)
        let parameters = data.parameters
        switch data.algorithm {
        case "command":
            let trainer = data.trainer
            guard let command = trainer.command else {
                throw LedgerError(
                    .schema,
                    "the model.trained event at seq \(trained.seq) records a command trainer without its command"
                )
            }
            return CommandTrainer(
                command: command,
                parameters: parameters,
                // A process environment cannot hold two names that differ only in Unicode normalization: the
                // first in byte order wins, so that the choice never depends on hashing.
                environment: Dictionary(
                    (trainer.environment?.objectValue ?? [:]).sortedByKey().compactMap { name, value in
                        value.stringValue.map { (name, $0) }
                    },
                    uniquingKeysWith: { first, _ in first }
                ),
                workingDirectory: workingDirectory
            )
        case IsolationForest.algorithm:
            return try IsolationForestTrainer(parameters: parameters, threads: threads)
        case let other:
            throw LedgerError(
                .invalidArgument,
                "the model.trained event at seq \(trained.seq) names the algorithm \(other), "
                    + "which this build cannot run"
            )
        }
    }
}

/// Reads single events from a store by seq.
public struct LogReader: Sendable {
    public let store: any EventStore

    public init(store: any EventStore) { self.store = store }

    /// The event at `seq`, which must be of `type`.
    public func event(at seq: UInt64, ofType type: String) async throws(LedgerError) -> Event {
        guard let entry = try await store.entries(in: seq..<seq + 1).first else {
            throw LedgerError(.invalidArgument, "the log has no entry at seq \(seq)")
        }
        let event = try SignedEvent(leaf: entry.leaf).event
        guard event.type.hasSameBytes(as: type) else {
            throw LedgerError(.invalidArgument, "seq \(seq) is \(event.type), not \(type)")
        }
        return event
    }

    /// The event at `seq`, which must be of `type`, byte for byte.
    public func event(at seq: UInt64, ofType type: EventType) async throws(LedgerError) -> Event {
        try await event(at: seq, ofType: type.rawValue)
    }

    /// The event at `seq`, which must be of `kind`'s type, and its data decoded as `kind`.
    public func event<Data: EventData>(
        at seq: UInt64,
        of kind: Data.Type
    ) async throws(LedgerError) -> (event: Event, data: Data) {
        let event = try await event(at: seq, ofType: Data.type)
        return (event, try event.decode(kind))
    }
}
