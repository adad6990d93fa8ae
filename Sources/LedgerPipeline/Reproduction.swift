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
/// model (`model.trained`) → the metrics (`model.evaluated`). Each link is a ``Check``. A check that cannot run
/// (no Audit DB given, an artifact missing) says why; only checks that ran and matched count as identical.
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
        let trained = try await log.event(at: version.trainedAt, ofType: "model.trained")
        let registered = try await log.event(at: version.registeredAt, ofType: "model.registered")
        let evaluationSeq = UInt64(registered.data["evaluation"]?["seq"]?.integerValue ?? 0)
        let evaluated = try await log.event(at: evaluationSeq, ofType: "model.evaluated")
        let datasetSeq = UInt64(trained.data["dataset"]?["seq"]?.integerValue ?? 0)
        let built = try await log.event(at: datasetSeq, ofType: "dataset.built")
        let extractSeq = UInt64(built.data["extract"]?["seq"]?.integerValue ?? 0)
        let extracted = try RecordedExtract(try await log.event(at: extractSeq, ofType: "data.extracted"))
        var checks: [Check] = []

        // 1. The Audit DB rows of the window, if the database is reachable.
        checks.append(await reextract(extracted, auditSource: auditSource))

        // 2. The dataset, rebuilt from the stored snapshot.
        checks.append(await rebuildDataset(built, extracted: extracted, artifacts: artifacts))

        // 3. The stored dataset artifact itself (the store checks its digest on every read).
        let datasetDigest = ArtifactDigest(sha256: hash(built.data["dataset"]?["sha256"]))
        let csv: [UInt8]
        do {
            csv = try await artifacts.get(datasetDigest)
            checks.append(
                Check(step: "dataset artifact", outcome: .identical, detail: "\(datasetDigest) reads back intact")
            )
        } catch {
            checks.append(Check(step: "dataset artifact", outcome: .differs, detail: error.reason))
            return Reproduction(version: version, checks: checks)
        }
        let data = try TrainingData(csv: csv)

        // 4. The trainer: the same version (built in) or the same files (a command).
        let trainer: any Trainer
        do {
            trainer = try Trainers.recorded(in: trained, workingDirectory: workingDirectory, threads: threads)
        } catch {
            checks.append(Check(step: "trainer", outcome: .differs, detail: error.reason))
            return Reproduction(version: version, checks: checks)
        }
        checks.append(compareTrainer(recorded: trained.data["trainer"], current: trainer))

        // 5. The model, retrained with the recorded parameters and seed.
        let seed = UInt64(trained.data["seed"]?.integerValue ?? 0)
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
        checks.append(
            await reevaluate(
                evaluated,
                model: retrained,
                trainer: trainer,
                data: data,
                store: store,
                state: state,
                artifacts: artifacts,
                workingDirectory: workingDirectory,
                threads: threads
            )
        )
        return Reproduction(version: version, checks: checks)
    }

    private static func hash(_ json: JSONValue?) -> Hash256 {
        json?.stringValue.flatMap(Hash256.init(hex:)) ?? .zero
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
        _ built: Event,
        extracted: RecordedExtract,
        artifacts: any ArtifactStore
    ) async -> Check {
        let step = "dataset"
        let snapshot = ArtifactDigest(sha256: extracted.snapshot)
        guard let percent = built.data["split"]?["holdoutPercent"]?.integerValue else {
            return Check(step: step, outcome: .differs, detail: "dataset.built has no split")
        }
        guard hash(built.data["featureSpec"]?["sha256"]) == Hash256.sha256(DatasetBuilder.featureSpecV1) else {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the feature spec changed: its digest is not the recorded one"
            )
        }
        do {
            let rebuilt = try DatasetBuilder.build(
                snapshot: try await artifacts.get(snapshot),
                from: extracted.from,
                to: extracted.to,
                featureSpec: DatasetBuilder.featureSpecV1,
                holdoutFraction: Double(percent) / 100
            )
            let recorded = hash(built.data["dataset"]?["sha256"])
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

    private static func compareTrainer(recorded: JSONValue?, current: any Trainer) -> Check {
        let step = "trainer"
        let identity: TrainerIdentity
        do {
            identity = try current.identity()
        } catch {
            return Check(step: step, outcome: .differs, detail: error.reason)
        }
        if recorded?["version"]?.stringValue != identity.version {
            return Check(
                step: step,
                outcome: .differs,
                detail: "the trainer version changed: recorded \(recorded?["version"]?.stringValue ?? "none"), "
                    + "this build has \(identity.version)"
            )
        }
        let files = (recorded?["files"]?.arrayValue ?? []).compactMap { file -> (String, String)? in
            guard let path = file["path"]?.stringValue, let sha256 = file["sha256"]?.stringValue else { return nil }
            return (path, sha256)
        }
        for (path, sha256) in files {
            guard let now = identity.files.first(where: { $0.path == path }) else {
                return Check(step: step, outcome: .differs, detail: "the trainer file \(path) is gone")
            }
            if now.sha256.hex != sha256 {
                return Check(
                    step: step,
                    outcome: .differs,
                    detail: "the trainer file \(path) changed: sha256:\(now.sha256.hex), recorded sha256:\(sha256)"
                )
            }
        }
        return Check(step: step, outcome: .identical, detail: "\(identity.version)")
    }

    private static func reevaluate(
        _ evaluated: Event,
        model: [UInt8],
        trainer: any Trainer,
        data: TrainingData,
        store: any EventStore,
        state: LedgerState,
        artifacts: any ArtifactStore,
        workingDirectory: String,
        threads: Int
    ) async -> Check {
        let step = "metrics"
        do {
            let candidateScores = try trainer.scores(model: model, rows: data.holdout)
            var championScores: [Double]?
            if let champion = evaluated.data["champion"] {
                let name = champion["name"]?.stringValue ?? ""
                let number = Int(champion["version"]?.integerValue ?? 0)
                guard let version = state.models.version(name, number) else {
                    return Check(
                        step: step,
                        outcome: .differs,
                        detail: "the champion \(name)@\(number) is not registered"
                    )
                }
                let event = try await LogReader(store: store).event(at: version.trainedAt, ofType: "model.trained")
                let scorer = try Trainers.recorded(in: event, workingDirectory: workingDirectory, threads: threads)
                championScores = try scorer.scores(
                    model: try await artifacts.get(ArtifactDigest(sha256: version.artifact)),
                    rows: data.holdout
                )
            }
            let budget = evaluated.data["alertBudget"]?["fraction"]?.doubleValue ?? 0.05
            let difference = evaluated.data["difference"]
            let settings = EvaluationSettings(
                alertBudget: budget,
                replicates: Int(difference?["replicates"]?.integerValue ?? 1000),
                confidence: difference?["confidence"]?.doubleValue ?? 0.95
            )
            let judgement = try Judgement(
                candidateScores: candidateScores,
                championScores: championScores,
                labels: data.holdoutLabels,
                policy: state.policy,
                settings: settings,
                bootstrapSeed: UInt64(difference?["seed"]?.integerValue ?? 0)
            )
            var mismatches: [String] = []
            func compare(_ name: String, _ recorded: JSONValue?, _ now: Double) {
                let was = recorded?.doubleValue ?? .nan
                if was != now { mismatches.append("\(name) \(now), recorded \(was)") }
            }
            let candidate = evaluated.data["candidate"]
            compare("candidate AUC-ROC", candidate?["aucRoc"], judgement.candidate.aucRoc)
            compare("candidate average precision", candidate?["averagePrecision"], judgement.candidate.averagePrecision)
            compare("candidate precision@k", candidate?["precisionAtK"], judgement.candidate.precisionAtK)
            compare("candidate recall@k", candidate?["recallAtBudget"], judgement.candidate.recallAtBudget)
            if let champion = judgement.champion, let interval = judgement.difference {
                compare("champion AUC-ROC", evaluated.data["champion"]?["metrics"]?["aucRoc"], champion.aucRoc)
                compare("interval lower bound", difference?["lower"], interval.lower)
                compare("interval upper bound", difference?["upper"], interval.upper)
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
