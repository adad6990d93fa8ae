public import LedgerArtifacts
public import LedgerCore
import LedgerML
import LedgerPipeline
public import LedgerStore

/// A model version loaded for scoring, with everything a response names: immutable, so a request that took it
/// scores every row with it, whatever is deployed meanwhile.
public final class ServingModel: Sendable {
    public let name: String
    public let version: Int
    public let artifact: Hash256
    /// The seq of the deployment (or rollback) that made it serve the target.
    public let deployedSeq: UInt64
    let forest: IsolationForest
    public let featureNames: [String]
    /// Scores at or above it are anomalous: the score that flags the alert budget's share of the model's own
    /// training rows (the ⌈budget × n⌉-th highest).
    public let threshold: Double
    public let alertBudget: Double
    /// Where it came from: its dataset, run, training and registration events, approvals.
    public let lineage: JSONValue

    init(
        name: String,
        version: Int,
        artifact: Hash256,
        deployedSeq: UInt64,
        forest: IsolationForest,
        featureNames: [String],
        threshold: Double,
        alertBudget: Double,
        lineage: JSONValue
    ) {
        self.name = name
        self.version = version
        self.artifact = artifact
        self.deployedSeq = deployedSeq
        self.forest = forest
        self.featureNames = featureNames
        self.threshold = threshold
        self.alertBudget = alertBudget
        self.lineage = lineage
    }

    /// `{"name","version","sha256"}`: what every score names.
    public var reference: JSONValue {
        ["name": .string(name), "version": .int(version), "sha256": .string(artifact.hex)]
    }

    /// Scores `rows` (row-major, ``featureNames`` order).
    func scores(_ values: [Double], rows: Int) throws(LedgerError) -> [Double] {
        do {
            let matrix = try FeatureMatrix(
                values: values,
                rows: rows,
                columns: featureNames.count,
                featureNames: featureNames
            )
            return try forest.scores(matrix)
        } catch {
            throw LedgerError(.invalidArgument, "cannot score the rows: \(error.reason)")
        }
    }
}

/// Loads the version serving a target, but only after checking that it may serve:
/// 1. the whole log up to now verifies against the trust anchor (signatures, chain, authority and every rule,
///    approvals before deployment included), so a deployment written around the program is refused;
/// 2. the artifact's bytes hash to the digest the deployment names (the artifact store refuses anything else);
/// 3. it is an Isolation Forest this build can score.
public struct ModelLoader: Sendable {
    public let store: any EventStore
    public let artifacts: any ArtifactStore
    public let trustedGenesis: Hash256
    public let target: String

    public init(store: any EventStore, artifacts: any ArtifactStore, trustedGenesis: Hash256, target: String) {
        self.store = store
        self.artifacts = artifacts
        self.trustedGenesis = trustedGenesis
        self.target = target
    }

    /// What the verified log says serves the target, or nil if nothing does.
    ///
    /// - Throws: `chain.*`, `authority.*` or `event.*` naming the first bad seq, if the log does not verify.
    public func verifiedDeployment() async throws(LedgerError) -> (state: LedgerState, serving: ModelRules.Serving?) {
        let size = try await store.size()
        let report = Verifier(trustedGenesis: trustedGenesis, concurrency: 2).verify(
            leaves: try await store.leaves(upTo: size)
        )
        if let failure = report.failure {
            throw LedgerError(failure.code, "the log does not verify at seq \(failure.seq ?? 0): \(failure.reason)")
        }
        return (report.state, report.state.models.targets[target]?.current)
    }

    /// Loads `serving`, whose deployment the verified `state` holds.
    public func load(_ serving: ModelRules.Serving, state: LedgerState) async throws(LedgerError) -> ServingModel {
        guard let version = state.models.version(serving.name, serving.version) else {
            throw LedgerError(.invalidArgument, "\(serving.name)@\(serving.version) is not registered")
        }
        let reader = LogReader(store: store)
        let (trainedEvent, trained) = try await reader.event(at: version.trainedAt, of: ModelTrained.self)
        guard trained.algorithm == IsolationForest.algorithm else {
            throw LedgerError(
                .modelArtifact,
                "\(serving.name)@\(serving.version) was trained by \(trained.algorithm); "
                    + "this service scores isolation-forest models only"
            )
        }
        let bytes = try await artifacts.get(ArtifactDigest(sha256: version.artifact))
        let forest: IsolationForest
        do { forest = try IsolationForest(serialized: bytes) } catch {
            throw LedgerError(
                .modelArtifact,
                "the artifact of \(serving.name)@\(serving.version) does not parse: \(error.reason)"
            )
        }
        let registered = try await reader.event(at: version.registeredAt, of: ModelRegistered.self).data
        let (evaluatedEvent, evaluated) = try await reader.event(
            at: registered.evaluation.seq,
            of: ModelEvaluated.self
        )
        let budget = evaluated.alertBudget.fraction
        let dataset = trained.dataset.sha256
        let training = try TrainingData(csv: try await artifacts.get(ArtifactDigest(sha256: dataset)))
        let trainingScores: [Double]
        do { trainingScores = try forest.scores(training.train, threads: 2) } catch {
            throw LedgerError(.modelArtifact, "cannot score the training rows: \(error.reason)")
        }
        let sorted = trainingScores.sorted(by: >)
        let flagged = max(1, Int((budget * Double(sorted.count)).rounded(.up)))
        let lineage: JSONValue = [
            "trained": ["seq": .int(trainedEvent.seq), "run": trained.run.map(JSONValue.string) ?? .null],
            "dataset": ["seq": .int(trained.dataset.seq), "sha256": .string(dataset.hex)],
            "evaluated": [
                "seq": .int(evaluatedEvent.seq), "verdict": .string(evaluated.verdict.rawValue),
                "aucRoc": .number(evaluated.candidate.aucRoc),
            ],
            "registered": .int(version.registeredAt),
            "approvals": .array(version.approvals.map { ["actor": .string($0.actor), "seq": .int($0.seq)] }),
            "deployed": .int(serving.seq),
        ]
        return ServingModel(
            name: serving.name,
            version: serving.version,
            artifact: version.artifact,
            deployedSeq: serving.seq,
            forest: forest,
            featureNames: training.featureNames,
            threshold: sorted.isEmpty ? 1 : sorted[min(flagged, sorted.count) - 1],
            alertBudget: budget,
            lineage: lineage
        )
    }
}
