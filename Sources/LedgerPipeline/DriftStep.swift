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

/// The drift of a dataset against a champion's training data, computed but not yet recorded.
public struct DriftComparison: Sendable {
    /// The dataset the champion was trained on: `(seq of its dataset.built, digest)`.
    public let reference: (seq: Int64, sha256: Hash256)
    public let champion: ModelRules.Version
    /// Per feature, in the dataset's order.
    public let features: [(name: String, statistics: DriftStatistics.Comparison)]
    /// The champion's anomaly scores on the reference against those on the current rows.
    public let scores: DriftStatistics.Comparison
    public let thresholds: DriftThresholds

    /// `significant` when any PSI (features or scores) reaches `thresholds.significant`, `moderate` when any
    /// reaches `thresholds.moderate`, else `stable`. The rules recompute it from the recorded numbers.
    public var verdict: String {
        let worst = (features.map(\.statistics.psi) + [scores.psi]).max() ?? 0
        return worst >= thresholds.significant ? "significant" : worst >= thresholds.moderate ? "moderate" : "stable"
    }

    /// The order of verdicts: stable < moderate < significant.
    public static func rank(_ verdict: String) -> Int {
        ["stable", "moderate", "significant"].firstIndex(of: verdict) ?? 0
    }
}

extension PipelineSteps {
    /// What ``measureDrift(current:against:thresholds:run:)`` recorded.
    public struct DriftMeasured: Sendable {
        public let seq: UInt64
        /// The `drift.measured` event as stored.
        public let event: Event
        public let comparison: DriftComparison
        public var verdict: String { comparison.verdict }
    }

    /// Compares the rows `current` (training rows of a new dataset) with the training rows of the dataset
    /// `champion` was trained on, feature by feature and through the champion's anomaly scores on both. Appends
    /// nothing: ``measureDrift(current:against:thresholds:run:)`` records it.
    public func compareDrift(
        current: FeatureMatrix,
        featureNames: [String],
        against champion: ModelRules.Version,
        thresholds: DriftThresholds = DriftThresholds()
    ) async throws(LedgerError) -> DriftComparison {
        guard thresholds.moderate >= 0, thresholds.moderate <= thresholds.significant, thresholds.significant <= 100
        else {
            throw LedgerError(.invalidArgument, "the drift thresholds must satisfy 0 <= moderate <= significant <= 100")
        }
        let (trained, trainedData) = try await LogReader(store: ledger.store).event(
            at: champion.trainedAt,
            of: ModelTrained.self
        )
        guard let referenceSeq = Int64(exactly: trainedData.dataset.seq) else {
            throw LedgerError(.malformed, "the model.trained event at seq \(trained.seq) names no dataset")
        }
        let referenceHash = trainedData.dataset.sha256
        let referenceData = try TrainingData(csv: try await artifacts.get(ArtifactDigest(sha256: referenceHash)))
        guard referenceData.featureNames == featureNames else {
            throw LedgerError(
                .invalidArgument,
                "the current rows have other features than \(champion.name)@\(champion.version) was trained on"
            )
        }
        let reference = referenceData.train
        var features: [(name: String, statistics: DriftStatistics.Comparison)] = []
        var scores: DriftStatistics.Comparison
        do {
            for (column, name) in featureNames.enumerated() {
                features.append(
                    (
                        name,
                        try DriftStatistics.compare(
                            reference: reference.column(column),
                            current: current.column(column)
                        )
                    )
                )
            }
            let scorer = try scorer(for: trained)
            let model = try await artifacts.get(ArtifactDigest(sha256: champion.artifact))
            scores = try DriftStatistics.compare(
                reference: try scorer.scores(model: model, rows: reference),
                current: try scorer.scores(model: model, rows: current)
            )
        } catch let error as MLError {
            throw LedgerError(.invalidArgument, "cannot measure drift: \(error.reason)")
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.invalidArgument, "cannot measure drift: \(error)")
        }
        return DriftComparison(
            reference: (referenceSeq, referenceHash),
            champion: champion,
            features: features,
            scores: scores,
            thresholds: thresholds
        )
    }

    /// Compares the training rows of the dataset `current` with those of the dataset `champion` was trained on
    /// (see ``compareDrift(current:featureNames:against:thresholds:)``) and appends `drift.measured`.
    public func measureDrift(
        current: ArtifactDigest,
        against champion: ModelRules.Version,
        thresholds: DriftThresholds = DriftThresholds(),
        run: String? = nil
    ) async throws(LedgerError) -> DriftMeasured {
        let state = await ledger.state
        guard let currentSeq = state.models.datasetSeq(of: current.sha256) else {
            throw LedgerError(.invalidArgument, "no dataset.built event in the log recorded the dataset \(current)")
        }
        let now = try TrainingData(csv: try await artifacts.get(current))
        let comparison = try await compareDrift(
            current: now.train,
            featureNames: now.featureNames,
            against: champion,
            thresholds: thresholds
        )
        guard let verdict = LedgerCore.DriftMeasured.Verdict(rawValue: comparison.verdict),
            let referenceSeq = UInt64(exactly: comparison.reference.seq), let currentSeq = UInt64(exactly: currentSeq)
        else { throw LedgerError(.malformed, "the drift comparison cannot be recorded") }
        let ks = { (comparison: DriftStatistics.Comparison) in
            KolmogorovSmirnov(statistic: comparison.ks, pValue: comparison.ksPValue)
        }
        let data = LedgerCore.DriftMeasured(
            reference: .init(dataset: RecordedArtifact(seq: referenceSeq, sha256: comparison.reference.sha256)),
            current: .init(dataset: RecordedArtifact(seq: currentSeq, sha256: current.sha256)),
            features: comparison.features.map {
                .init(
                    name: $0.name,
                    psi: $0.statistics.psi,
                    ks: ks($0.statistics),
                    wasserstein: $0.statistics.wasserstein
                )
            },
            thresholds: .init(moderate: thresholds.moderate, significant: thresholds.significant),
            verdict: verdict,
            run: run,
            scores: .init(
                model: VersionReference(name: champion.name, version: champion.version, sha256: champion.artifact),
                psi: comparison.scores.psi,
                ks: ks(comparison.scores),
                wasserstein: comparison.scores.wasserstein
            )
        )
        let event = try await appendOne(
            try EventDraft(data, subject: [Subject(name: "dataset", sha256: current.sha256)])
        )
        return DriftMeasured(seq: event.seq, event: event, comparison: comparison)
    }
}

extension FeatureMatrix {
    /// The values of one column, top to bottom.
    func column(_ index: Int) -> [Double] {
        (0..<rows).map { self[$0, index] }
    }
}
