/// Ranking metrics for anomaly scores, where a higher score means "more anomalous" and label 1 is
/// an anomaly.
///
/// Every function checks its input and throws `ml.input` when `scores` and `labels` differ in
/// length, are empty, a score is not finite, or a label is not 0 or 1.
public enum Metrics {
    /// The area under the ROC curve: the probability that a random anomaly scores higher than a
    /// random normal row, ties counting one half (Mann–Whitney U / (P·N)).
    ///
    /// Computed exactly in integer arithmetic; equals scikit-learn's `roc_auc_score`. Throws
    /// `ml.input` when only one class is present.
    public static func aucROC(scores: [Double], labels: [UInt8]) throws(MLError) -> Double {
        try check(scores: scores, labels: labels)
        guard let auc = RankedScores(scores: scores, labels: labels).auc() else {
            throw .input("AUC-ROC needs both classes in the labels")
        }
        return auc
    }

    /// Average precision exactly as scikit-learn's `average_precision_score` defines it:
    /// Σₙ (Rₙ − Rₙ₋₁) · Pₙ over the distinct score values taken as thresholds from the highest down,
    /// where Pₙ and Rₙ are the precision and recall of alerting on every row with score ≥ the n-th
    /// threshold (tied rows enter together). Throws `ml.input` when there is no positive label;
    /// with no negative label the result is 1.
    public static func averagePrecision(scores: [Double], labels: [UInt8]) throws(MLError) -> Double {
        try check(scores: scores, labels: labels)
        let positives = labels.reduce(0) { $0 + Int($1) }
        guard positives > 0 else { throw .input("average precision needs at least one positive label") }
        let ranked = RankedScores(scores: scores, labels: labels)
        var sum = 0.0
        var truePositives = 0
        var alerted = 0
        var group = ranked.groupStarts.count - 1
        while group > 0 {
            let range = ranked.groupStarts[group - 1]..<ranked.groupStarts[group]
            var groupPositives = 0
            for position in range { groupPositives += Int(ranked.orderedLabels[position]) }
            truePositives += groupPositives
            alerted += range.count
            if groupPositives > 0 {
                sum += Double(groupPositives) * (Double(truePositives) / Double(alerted))
            }
            group -= 1
        }
        return sum / Double(positives)
    }

    /// The share of anomalies among the `k` highest-scoring rows.
    ///
    /// Rows are ranked by score, highest first; rows with equal scores are ranked by row index,
    /// lowest first, so the result is deterministic even when the k-th score is tied. Throws
    /// `ml.parameters` unless `1 <= k <= scores.count`.
    public static func precisionAtK(scores: [Double], labels: [UInt8], k: Int) throws(MLError) -> Double {
        try check(scores: scores, labels: labels)
        guard k >= 1, k <= scores.count else { throw .parameters("k must be in 1...\(scores.count), got \(k)") }
        return Double(positivesInTop(k, scores: scores, labels: labels)) / Double(k)
    }

    /// The share of all anomalies found when alerting on a fraction `budget` of the rows.
    ///
    /// The alerted rows are the top `alertCount(rows:budget:)` rows in the ranking of
    /// `precisionAtK` (score descending, ties by row index). Throws `ml.parameters` unless
    /// `0 < budget <= 1`, and `ml.input` when there is no positive label.
    public static func recallAtBudget(scores: [Double], labels: [UInt8], budget: Double) throws(MLError) -> Double {
        try check(scores: scores, labels: labels)
        let k = try alertCount(rows: scores.count, budget: budget)
        let positives = labels.reduce(0) { $0 + Int($1) }
        guard positives > 0 else { throw .input("recall needs at least one positive label") }
        return Double(positivesInTop(k, scores: scores, labels: labels)) / Double(positives)
    }

    /// The number of rows a budget alerts on: ⌈budget · rows⌉, at least 1.
    ///
    /// The product is taken with a relative tolerance of 1e-9 before rounding up, so that a budget
    /// written in decimal, such as 0.07 of 100 rows, gives 7 and not 8. Throws `ml.parameters`
    /// unless `0 < budget <= 1`.
    public static func alertCount(rows: Int, budget: Double) throws(MLError) -> Int {
        guard budget > 0, budget <= 1 else { throw .parameters("budget must be in (0, 1], got \(budget)") }
        let product = budget * Double(rows)
        return min(rows, max(1, Int((product - product * 1e-9).rounded(.up))))
    }

    /// How many of the top `k` rows (score descending, ties by row index) are labelled 1.
    private static func positivesInTop(_ k: Int, scores: [Double], labels: [UInt8]) -> Int {
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        return order.prefix(k).reduce(0) { $0 + Int(labels[$1]) }
    }

    static func check(scores: [Double], labels: [UInt8]) throws(MLError) {
        guard scores.count == labels.count else {
            throw .input("\(scores.count) scores but \(labels.count) labels")
        }
        guard !scores.isEmpty else { throw .input("no scores") }
        if let row = scores.firstIndex(where: { !$0.isFinite }) {
            throw .input("the score of row \(row + 1) is not finite")
        }
        if let row = labels.firstIndex(where: { $0 > 1 }) {
            throw .input("the label of row \(row + 1) is \(labels[row]), not 0 or 1")
        }
    }
}
