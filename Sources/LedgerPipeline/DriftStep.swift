public import LedgerArtifacts
public import LedgerCore
public import LedgerML
import LedgerStore

/// The PSI thresholds a drift verdict uses: `moderate` at or above the first, `significant` at or above the second.
/// The defaults are the usual PSI conventions.
public struct DriftThresholds: Sendable, Hashable {
    public var moderate: Double
    public var significant: Double

    public init(moderate: Double = 0.1, significant: Double = 0.25) {
        self.moderate = moderate
        self.significant = significant
    }
}

extension ModelSteps {
    /// What ``measureDrift(current:against:thresholds:run:)`` recorded.
    public struct DriftMeasured: Sendable {
        public let seq: UInt64
        /// Per feature, in the dataset's order, then the champion's anomaly scores.
        public let features: [(name: String, statistics: DriftStatistics.Comparison)]
        public let scores: DriftStatistics.Comparison
        public let verdict: String
    }

    /// Compares the training rows of the dataset `current` with those of the dataset `champion` was trained on,
    /// feature by feature and through the champion's anomaly scores on both, and appends `drift.measured`.
    ///
    /// The verdict is `significant` when any PSI reaches `thresholds.significant`, `moderate` when any reaches
    /// `thresholds.moderate`, else `stable`; the rules recompute it from the recorded numbers.
    public func measureDrift(
        current: ArtifactDigest,
        against champion: ModelRules.Version,
        thresholds: DriftThresholds = DriftThresholds(),
        run: String? = nil
    ) async throws(LedgerError) -> DriftMeasured {
        guard thresholds.moderate >= 0, thresholds.moderate <= thresholds.significant, thresholds.significant <= 100
        else {
            throw LedgerError(.invalidArgument, "the drift thresholds must satisfy 0 <= moderate <= significant <= 100")
        }
        let state = await ledger.state
        guard let currentSeq = state.models.datasetSeq(of: current.sha256) else {
            throw LedgerError(.invalidArgument, "no dataset.built event in the log recorded the dataset \(current)")
        }
        let log = LogReader(store: ledger.store)
        let trained = try await log.event(at: champion.trainedAt, ofType: "model.trained")
        guard let referenceSeq = trained.data["dataset"]?["seq"]?.integerValue,
            let referenceHash = trained.data["dataset"]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:))
        else { throw LedgerError(.malformed, "the model.trained event at seq \(trained.seq) names no dataset") }
        let reference = try TrainingData(csv: try await artifacts.get(ArtifactDigest(sha256: referenceHash))).train
        let now = try TrainingData(csv: try await artifacts.get(current)).train
        guard reference.featureNames == now.featureNames else {
            throw LedgerError(
                .invalidArgument,
                "the dataset \(current) has other features than \(champion.name)@\(champion.version) was trained on"
            )
        }
        var features: [(name: String, statistics: DriftStatistics.Comparison)] = []
        var scores: DriftStatistics.Comparison
        do {
            for (column, name) in reference.featureNames.enumerated() {
                features.append(
                    (
                        name,
                        try DriftStatistics.compare(reference: reference.column(column), current: now.column(column))
                    )
                )
            }
            let scorer = try scorer(for: trained)
            let model = try await artifacts.get(ArtifactDigest(sha256: champion.artifact))
            scores = try DriftStatistics.compare(
                reference: try scorer.scores(model: model, rows: reference),
                current: try scorer.scores(model: model, rows: now)
            )
        } catch let error as MLError {
            throw LedgerError(.invalidArgument, "cannot measure drift: \(error.reason)")
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.invalidArgument, "cannot measure drift: \(error)")
        }
        let worst = (features.map(\.statistics.psi) + [scores.psi]).max() ?? 0
        let verdict =
            worst >= thresholds.significant ? "significant" : worst >= thresholds.moderate ? "moderate" : "stable"
        func statistics(_ comparison: DriftStatistics.Comparison) -> [String: JSONValue] {
            [
                "psi": .number(comparison.psi),
                "ks": ["statistic": .number(comparison.ks), "pValue": .number(comparison.ksPValue)],
                "wasserstein": .number(comparison.wasserstein),
            ]
        }
        var data: [String: JSONValue] = [
            "reference": ["dataset": ["seq": .int(referenceSeq), "sha256": .string(referenceHash.hex)]],
            "current": ["dataset": ["seq": .int(currentSeq), "sha256": .string(current.sha256.hex)]],
            "features": .array(
                features.map { .object(statistics($0.statistics).merging(["name": .string($0.name)]) { $1 }) }
            ),
            "scores": .object(
                statistics(scores).merging([
                    "model": [
                        "name": .string(champion.name), "version": .int(champion.version),
                        "sha256": .string(champion.artifact.hex),
                    ]
                ]) { $1 }
            ),
            "thresholds": ["moderate": .number(thresholds.moderate), "significant": .number(thresholds.significant)],
            "verdict": .string(verdict),
        ]
        if let run { data["run"] = .string(run) }
        let appended = try await ledger.append(
            [
                EventDraft(
                    type: "drift.measured",
                    subject: [Subject(name: "dataset", sha256: current.sha256)],
                    data: .object(data)
                )
            ],
            signedBy: signer
        )
        return DriftMeasured(seq: appended.first?.event.seq ?? 0, features: features, scores: scores, verdict: verdict)
    }
}

extension FeatureMatrix {
    /// The values of one column, top to bottom.
    func column(_ index: Int) -> [Double] {
        (0..<rows).map { self[$0, index] }
    }
}
