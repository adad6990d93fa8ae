public import LedgerCore
import LedgerML

/// A model's metrics on labelled holdout rows.
public struct ModelMetrics: Sendable, Hashable {
    public let aucRoc: Double
    public let averagePrecision: Double
    /// The share of anomalies among the `k` highest-scored rows.
    public let precisionAtK: Double
    /// The share of all anomalies that are among the `k` highest-scored rows.
    public let recallAtBudget: Double

    /// Computes the metrics; `budget` is the fraction of rows alerted on, k = ⌈budget × rows⌉.
    public init(scores: [Double], labels: [UInt8], budget: Double) throws(LedgerError) {
        do {
            aucRoc = try Metrics.aucROC(scores: scores, labels: labels)
            averagePrecision = try Metrics.averagePrecision(scores: scores, labels: labels)
            let k = try Metrics.alertCount(rows: scores.count, budget: budget)
            precisionAtK = try Metrics.precisionAtK(scores: scores, labels: labels, k: k)
            recallAtBudget = try Metrics.recallAtBudget(scores: scores, labels: labels, budget: budget)
        } catch {
            throw LedgerError(.invalidArgument, "cannot compute the metrics: \(error.reason)")
        }
    }

    init(validated json: JSONValue?) {
        aucRoc = json?["aucRoc"]?.doubleValue ?? .nan
        averagePrecision = json?["averagePrecision"]?.doubleValue ?? .nan
        precisionAtK = json?["precisionAtK"]?.doubleValue ?? .nan
        recallAtBudget = json?["recallAtBudget"]?.doubleValue ?? .nan
    }

    public var jsonValue: JSONValue {
        [
            "aucRoc": .number(aucRoc), "averagePrecision": .number(averagePrecision),
            "precisionAtK": .number(precisionAtK), "recallAtBudget": .number(recallAtBudget),
        ]
    }
}

/// How `ledger evaluate` compares models: the alert budget and the bootstrap.
public struct EvaluationSettings: Sendable, Hashable {
    /// The share of holdout rows an operator can afford to look at: precision@k and recall use k = ⌈fraction × rows⌉.
    public var alertBudget: Double = 0.05
    public var replicates: Int = 1000
    public var confidence: Double = 0.95

    public init(alertBudget: Double = 0.05, replicates: Int = 1000, confidence: Double = 0.95) {
        self.alertBudget = alertBudget
        self.replicates = replicates
        self.confidence = confidence
    }
}

/// The outcome of judging a candidate against the champion on the same labelled rows.
public struct Judgement: Sendable {
    public let candidate: ModelMetrics
    public let champion: ModelMetrics?
    /// candidate − champion AUC-ROC with its bootstrap interval, when there is a champion.
    public let difference: (aucRoc: Double, lower: Double, upper: Double)?
    public let k: Int
    public let bootstrapSeed: UInt64
    public let verdict: Gate.Verdict

    /// Scores → metrics → bootstrap → gate. Pure and deterministic given `bootstrapSeed`.
    public init(
        candidateScores: [Double],
        championScores: [Double]?,
        labels: [UInt8],
        policy: Policy,
        settings: EvaluationSettings,
        bootstrapSeed: UInt64
    ) throws(LedgerError) {
        let k: Int
        do {
            k = try Metrics.alertCount(rows: labels.count, budget: settings.alertBudget)
        } catch {
            throw LedgerError(.invalidArgument, error.reason)
        }
        let candidate = try ModelMetrics(scores: candidateScores, labels: labels, budget: settings.alertBudget)
        var champion: ModelMetrics?
        var difference: (aucRoc: Double, lower: Double, upper: Double)?
        var comparison: Gate.Comparison?
        if let championScores {
            let metrics = try ModelMetrics(scores: championScores, labels: labels, budget: settings.alertBudget)
            let interval: (difference: Double, lower: Double, upper: Double)
            do {
                interval = try PairedBootstrap.aucDifference(
                    candidate: candidateScores,
                    champion: championScores,
                    labels: labels,
                    replicates: settings.replicates,
                    confidence: settings.confidence,
                    seed: bootstrapSeed
                )
            } catch {
                throw LedgerError(.invalidArgument, "cannot bootstrap the AUC-ROC difference: \(error.reason)")
            }
            // The recorded difference is exactly candidate − champion, as the verifier recomputes it.
            champion = metrics
            difference = (candidate.aucRoc - metrics.aucRoc, interval.lower, interval.upper)
            comparison = Gate.Comparison(championAucRoc: metrics.aucRoc, lower: interval.lower, upper: interval.upper)
        }
        self.candidate = candidate
        self.champion = champion
        self.difference = difference
        self.k = k
        self.bootstrapSeed = bootstrapSeed
        self.verdict = policy.gate.verdict(candidateAucRoc: candidate.aucRoc, champion: comparison)
    }
}
