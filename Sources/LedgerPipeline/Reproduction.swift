import Crypto
public import LedgerArtifacts
public import LedgerAudit
public import LedgerCore
import LedgerML
public import LedgerStore

/// `ledger reproduce`: rebuilds a registered version from its events and says, step by step, whether every
/// digest and metric comes out the same.
///
/// The chain it walks: the Audit DB window → the snapshot (`data.extracted`) → the dataset (`dataset.built`) → the
/// model (`model.trained`) → the metrics (`model.evaluated`). Each link is a ``Check``.
///
/// Every artifact the lineage names by digest (the snapshot, the dataset, its manifest, the registered model, the
/// champion it was compared with, and any other subject of those events) is read back from the artifact store,
/// which checks its digest, and has a check of its own, `<name> artifact`: a missing or damaged artifact *differs*
/// and is named. The steps that needed its bytes are then *skipped*, saying which artifact they lacked. A check
/// that cannot run for another reason (no Audit DB given) is skipped too; only checks that ran and matched count
/// as identical.
public struct Reproduction: Sendable {
    /// One compared step.
    public struct Check: Sendable, Hashable {
        public enum Outcome: String, Sendable, Hashable {
            case identical
            case differs
            /// The check could not run; ``detail`` says why. It does not make the reproduction fail.
            case skipped
        }

        public let step: String
        public let outcome: Outcome
        public let detail: String

        public var jsonValue: JSONValue {
            ["step": .string(step), "outcome": .string(outcome.rawValue), "detail": .string(detail)]
        }
    }

    public let version: ModelRules.Version
    public let checks: [Check]

    /// True when no check differs.
    public var isIdentical: Bool { !checks.contains { $0.outcome == .differs } }

    /// Reproduces `version`. `auditSource` is the Audit DB (SQLite or PostgreSQL) to re-extract from, if reachable.
    public static func run(
        _ version: ModelRules.Version,
        store: any EventStore,
        state: LedgerState,
        artifacts: any ArtifactStore,
        workingDirectory: String,
        auditSource: AuditSourceLocation?,
        threads: Int = 1
    ) async throws(LedgerError) -> Reproduction {
        let log = LogReader(store: store)
        let (trained, trainedData) = try await log.event(at: version.trainedAt, of: ModelTrained.self)
        let (registered, registeredData) = try await log.event(at: version.registeredAt, of: ModelRegistered.self)
        let (evaluated, evaluatedData) = try await log.event(
            at: registeredData.evaluation.seq,
            of: ModelEvaluated.self
        )
        let (built, builtData) = try await log.event(at: trainedData.dataset.seq, of: DatasetBuilt.self)
        let extractedEvent = try await log.event(at: builtData.extract.seq, ofType: .dataExtracted)
        let extracted = try RecordedExtract(extractedEvent)
        var checks: [Check] = []

        // 1. Every stored artifact of the lineage, read back through the store, which checks each digest.
        let named = storedArtifacts(
            extracted: extracted,
            built: builtData,
            evaluated: evaluatedData,
            events: [extractedEvent, built, trained, evaluated, registered],
            version: version
        )
        var stored: [Hash256: [UInt8]] = [:]
        var unreadable: [Hash256: String] = [:]
        for artifact in named {
            let digest = ArtifactDigest(sha256: artifact.digest)
            do {
                let bytes = try await artifacts.get(digest)
                checks.append(
                    Check(
                        step: "\(artifact.name) artifact",
                        outcome: .identical,
                        detail: "\(digest) reads back intact (\(bytes.count) bytes)"
                    )
                )
                // Keep only what the later steps read: the snapshot, the dataset and the champion model.
                if artifact.isInput { stored[artifact.digest] = bytes }
            } catch {
                let reason =
                    error.code == .artifactMissing
                    ? "\(digest) is missing from the artifact store" : error.reason
                checks.append(Check(step: "\(artifact.name) artifact", outcome: .differs, detail: reason))
                unreadable[artifact.digest] = "\(artifact.name) artifact"
            }
        }
        /// A skipped check for a step that needed the bytes of `digest`, which could not be read.
        func lacking(_ step: String, _ digest: Hash256) -> Check {
            Check(
                step: step,
                outcome: .skipped,
                detail: "not redone: the \(unreadable[digest] ?? "artifact") sha256:\(digest.hex) cannot be read"
            )
        }

        // 2. The Audit DB rows of the window, if the database is reachable.
        checks.append(await reextract(extracted, auditSource: auditSource))

        // 3. The dataset, rebuilt from the stored snapshot.
        if let snapshot = stored[extracted.snapshot] {
            checks.append(rebuildDataset(builtData, extracted: extracted, snapshot: snapshot))
        } else {
            checks.append(lacking("dataset", extracted.snapshot))
        }

        // 4. The trainer: the same version (built in) or the same files (a command).
        let trainer: any Trainer
        do {
            trainer = try Trainers.recorded(in: trained, workingDirectory: workingDirectory, threads: threads)
        } catch {
            checks.append(Check(step: "trainer", outcome: .differs, detail: error.reason))
            return Reproduction(version: version, checks: checks)
        }
        checks.append(compareTrainer(recorded: trainedData.trainer, current: trainer))

        let datasetDigest = builtData.dataset.sha256
        guard let csv = stored[datasetDigest] else {
            checks.append(lacking("model", datasetDigest))
            checks.append(lacking("metrics", datasetDigest))
            return Reproduction(version: version, checks: checks)
        }
        let data = try TrainingData(csv: csv)

        // 5. The model, retrained with the recorded parameters and seed.
        let seed = trainedData.seed
        let retrained: [UInt8]
        do {
            retrained = try trainer.train(data, datasetCSV: csv, seed: seed)
        } catch {
            checks.append(Check(step: "model", outcome: .differs, detail: "retraining failed: \(error.reason)"))
            return Reproduction(version: version, checks: checks)
        }
        let retrainedDigest = ArtifactDigest.of(retrained)
        if retrainedDigest.sha256 == version.artifact {
            checks.append(
                Check(step: "model", outcome: .identical, detail: "retrained \(retrainedDigest) with seed \(seed)")
            )
        } else {
            checks.append(
                Check(
                    step: "model",
                    outcome: .differs,
                    detail: "retraining with seed \(seed) gives \(retrainedDigest), the registered artifact is "
                        + "\(ArtifactDigest(sha256: version.artifact))"
                )
            )
        }

        // 6. The metrics, recomputed on the same holdout with the retrained model (and the recorded champion).
        let champion = evaluatedData.champion?.sha256
        if let champion, stored[champion] == nil {
            checks.append(lacking("metrics", champion))
            return Reproduction(version: version, checks: checks)
        }
        checks.append(
            await reevaluate(
                evaluatedData,
                model: retrained,
                championModel: champion.flatMap { stored[$0] },
                trainer: trainer,
                data: data,
                store: store,
                state: state,
                workingDirectory: workingDirectory,
                threads: threads
            )
        )
        return Reproduction(version: version, checks: checks)
    }

    /// An artifact the lineage names by digest.
    struct NamedArtifact: Hashable {
        /// What the artifact is: `snapshot`, `dataset`, `manifest`, `model`, `champion model`, or the name of
        /// another subject.
        let name: String
        let digest: Hash256
        /// Whether a later step reads its bytes.
        let isInput: Bool
    }

    /// Every artifact that `events` name by digest, each once, in lineage order: the snapshot, the dataset and its
    /// manifest, the registered model, the champion it was evaluated against, then any other subject.
    static func storedArtifacts(
        extracted: RecordedExtract,
        built: DatasetBuilt,
        evaluated: ModelEvaluated,
        events: [Event],
        version: ModelRules.Version
    ) -> [NamedArtifact] {
        var named: [NamedArtifact] = [
            NamedArtifact(name: "snapshot", digest: extracted.snapshot, isInput: true),
            NamedArtifact(name: "dataset", digest: built.dataset.sha256, isInput: true),
            NamedArtifact(name: "manifest", digest: built.manifest.sha256, isInput: false),
            NamedArtifact(name: "model", digest: version.artifact, isInput: false),
        ]
        if let champion = evaluated.champion {
            named.append(NamedArtifact(name: "champion model", digest: champion.sha256, isInput: true))
        }
        for event in events {
            for subject in event.subject {
                named.append(NamedArtifact(name: subject.name, digest: subject.sha256, isInput: false))
            }
        }
        // The first mention of a digest names it, but a digest that a later step reads is kept as an input.
        var result: [NamedArtifact] = []
        for artifact in named {
            if let index = result.firstIndex(where: { $0.digest == artifact.digest }) {
                if artifact.isInput, !result[index].isInput {
                    result[index] = NamedArtifact(name: result[index].name, digest: artifact.digest, isInput: true)
                }
            } else {
                result.append(artifact)
            }
        }
        return result
    }

    private static func reextract(_ extracted: RecordedExtract, auditSource: AuditSourceLocation?) async -> Check {
        let step = "audit rows"
        guard let auditSource else {
            return Check(
                step: step,
                outcome: .skipped,
                detail: "no Audit DB given (pass --source sqlite:PATH or postgres://…)"
            )
        }
        guard let policy = DataQualityPolicy(rawValue: extracted.policy) else {
            return Check(step: step, outcome: .differs, detail: "data.extracted has an unknown policy")
        }
        guard Hash256.sha256(Array(AuditExtractor.defaultQuery.utf8)).hex == extracted.queryDigest else {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the extraction query changed: this build's query digest is not the recorded one"
            )
        }
        var hasher = SHA256()
        let extraction: AuditExtraction
        do {
            // `now` is the event's time, so the same rows give the same quarantine decisions.
            extraction = try await AuditExtractor.extract(
                source: auditSource,
                from: extracted.from,
                to: extracted.to,
                now: extracted.time,
                policy: policy,
                sink: { hasher.update(data: Array($0)) }
            )
        } catch let error as LedgerError {
            return Check(step: step, outcome: .differs, detail: "re-extraction failed: \(error.reason)")
        } catch {
            return Check(step: step, outcome: .differs, detail: "re-extraction failed: \(error)")
        }
        let digest = Hash256(bytes: Array(hasher.finalize())) ?? .zero
        guard digest == extracted.snapshot else {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the Audit DB's rows in [\(extracted.from), \(extracted.to)) changed since seq "
                    + "\(extracted.seq): the snapshot is now sha256:\(digest.hex) with \(extraction.rows) rows, "
                    + "recorded sha256:\(extracted.snapshot.hex) with \(extracted.rows) rows"
            )
        }
        return Check(
            step: step,
            outcome: .identical,
            detail: "re-extracted \(extraction.rows) rows: sha256:\(digest.hex)"
        )
    }

    private static func rebuildDataset(
        _ built: DatasetBuilt,
        extracted: RecordedExtract,
        snapshot bytes: [UInt8]
    ) -> Check {
        let step = "dataset"
        let snapshot = ArtifactDigest(sha256: extracted.snapshot)
        let percent = built.split.holdoutPercent
        guard built.featureSpec.sha256 == Hash256.sha256(DatasetBuilder.featureSpecV1) else {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the feature spec changed: its digest is not the recorded one"
            )
        }
        do {
            let rebuilt = try DatasetBuilder.build(
                snapshot: bytes,
                from: extracted.from,
                to: extracted.to,
                featureSpec: DatasetBuilder.featureSpecV1,
                holdoutFraction: Double(percent) / 100
            )
            let recorded = built.dataset.sha256
            guard rebuilt.datasetDigest == recorded else {
                return Check(
                    step: step,
                    outcome: .differs,
                    detail: "rebuilding from snapshot \(snapshot) gives sha256:\(rebuilt.datasetDigest.hex), "
                        + "recorded sha256:\(recorded.hex)"
                )
            }
            return Check(
                step: step,
                outcome: .identical,
                detail: "rebuilt sha256:\(recorded.hex) from snapshot \(snapshot)"
            )
        } catch {
            return Check(
                step: step,
                outcome: .differs,
                detail: "cannot rebuild from snapshot \(snapshot): \(error.reason)"
            )
        }
    }

    private static func compareTrainer(recorded: ModelTrained.Trainer, current: any Trainer) -> Check {
        let step = "trainer"
        let identity: TrainerIdentity
        do {
            identity = try current.identity()
        } catch {
            return Check(step: step, outcome: .differs, detail: error.reason)
        }
        if recorded.version != identity.version {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the trainer version changed: recorded \(recorded.version), "
                    + "this build has \(identity.version)"
            )
        }
        for file in recorded.files ?? [] {
            let path = file.path
            guard let now = identity.files.first(where: { $0.path == path }) else {
                return Check(step: step, outcome: .differs, detail: "the trainer file \(path) is gone")
            }
            if now.sha256 != file.sha256 {
                return Check(
                    step: step,
                    outcome: .differs,
                    detail: "the trainer file \(path) changed: sha256:\(now.sha256.hex), "
                        + "recorded sha256:\(file.sha256.hex)"
                )
            }
        }
        return Check(step: step, outcome: .identical, detail: "\(identity.version)")
    }

    private static func reevaluate(
        _ evaluated: ModelEvaluated,
        model: [UInt8],
        championModel: [UInt8]?,
        trainer: any Trainer,
        data: TrainingData,
        store: any EventStore,
        state: LedgerState,
        workingDirectory: String,
        threads: Int
    ) async -> Check {
        let step = "metrics"
        do {
            let candidateScores = try trainer.scores(model: model, rows: data.holdout)
            var championScores: [Double]?
            if let champion = evaluated.champion {
                let name = champion.name
                let number = champion.version
                guard let version = state.models.version(name, number) else {
                    return Check(
                        step: step,
                        outcome: .differs,
                        detail: "the champion \(name)@\(number) is not registered"
                    )
                }
                let event = try await LogReader(store: store).event(at: version.trainedAt, ofType: .modelTrained)
                let scorer = try Trainers.recorded(in: event, workingDirectory: workingDirectory, threads: threads)
                guard let championModel, Hash256.sha256(championModel) == version.artifact else {
                    return Check(
                        step: step,
                        outcome: .differs,
                        detail: "the champion \(name)@\(number) is not the model model.evaluated names"
                    )
                }
                championScores = try scorer.scores(model: championModel, rows: data.holdout)
            }
            // Without a champion there is no difference, and the interval's settings are not used.
            let difference = evaluated.difference
            var settings = EvaluationSettings(alertBudget: evaluated.alertBudget.fraction)
            if let difference {
                settings.replicates = difference.replicates
                settings.confidence = difference.confidence
            }
            let judgement = try Judgement(
                candidateScores: candidateScores,
                championScores: championScores,
                labels: data.holdoutLabels,
                policy: state.policy,
                settings: settings,
                bootstrapSeed: difference?.seed ?? 0
            )
            var mismatches: [String] = []
            func compare(_ name: String, _ recorded: Double?, _ now: Double) {
                let was = recorded ?? .nan
                if was != now { mismatches.append("\(name) \(now), recorded \(was)") }
            }
            let candidate = evaluated.candidate
            compare("candidate AUC-ROC", candidate.aucRoc, judgement.candidate.aucRoc)
            compare("candidate average precision", candidate.averagePrecision, judgement.candidate.averagePrecision)
            compare("candidate precision@k", candidate.precisionAtK, judgement.candidate.precisionAtK)
            compare("candidate recall@k", candidate.recallAtBudget, judgement.candidate.recallAtBudget)
            if let champion = judgement.champion, let interval = judgement.difference {
                compare("champion AUC-ROC", evaluated.champion?.metrics.aucRoc, champion.aucRoc)
                compare("interval lower bound", difference?.lower, interval.lower)
                compare("interval upper bound", difference?.upper, interval.upper)
            }
            guard mismatches.isEmpty else {
                return Check(step: step, outcome: .differs, detail: mismatches.joined(separator: "; "))
            }
            return Check(
                step: step,
                outcome: .identical,
                detail: "AUC-ROC \(Gate.format(judgement.candidate.aucRoc)) on \(data.holdoutLabels.count) holdout rows"
            )
        } catch {
            return Check(step: step, outcome: .differs, detail: "re-evaluation failed: \(error.reason)")
        }
    }
}
