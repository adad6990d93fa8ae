/// A paired bootstrap confidence interval for the difference in AUC-ROC between two models scored
/// on the same labelled rows.
public enum PairedBootstrap {
    /// The largest number of replicates accepted.
    public static let maximumReplicates = 100_000

    /// AUC(candidate) − AUC(champion) on all rows, with a percentile bootstrap interval.
    ///
    /// Each replicate draws `n` row indices uniformly with replacement (the same indices for both
    /// models: the comparison is paired) and computes both AUCs on that resample. A resample that
    /// holds only one class is discarded and redrawn from the continuing stream; after
    /// `100 × replicates` discarded draws the call throws `ml.input`. The interval is the
    /// `(1 − confidence)/2` and `(1 + confidence)/2` quantiles of the replicate differences,
    /// interpolated linearly between order statistics (NumPy's default `linear` method).
    ///
    /// Deterministic: the draws come from xoshiro256** seeded with `seed` (see docs/model-format.md),
    /// and each replicate's AUCs are exact. Identical score vectors give exactly (0, 0, 0).
    ///
    /// Cost: one sort per model, then O(n) per replicate (each AUC is a weighted pass over the
    /// fixed order, weighting each row by how often the replicate drew it).
    ///
    /// Throws `ml.input` for mismatched lengths, non-finite scores, labels other than 0/1 or a
    /// single class, and `ml.parameters` unless `1 <= replicates <= 100_000` and `0 < confidence < 1`.
    public static func aucDifference(
        candidate: [Double],
        champion: [Double],
        labels: [UInt8],
        replicates: Int = 1000,
        confidence: Double = 0.95,
        seed: UInt64
    ) throws(MLError) -> (difference: Double, lower: Double, upper: Double) {
        try Metrics.check(scores: candidate, labels: labels)
        try Metrics.check(scores: champion, labels: labels)
        guard (1...maximumReplicates).contains(replicates) else {
            throw .parameters("replicates must be in 1...\(maximumReplicates), got \(replicates)")
        }
        guard confidence > 0, confidence < 1 else {
            throw .parameters("confidence must be in (0, 1), got \(confidence)")
        }
        let candidateRanks = RankedScores(scores: candidate, labels: labels)
        let championRanks = RankedScores(scores: champion, labels: labels)
        guard let candidateAUC = candidateRanks.auc(), let championAUC = championRanks.auc() else {
            throw .input("AUC-ROC needs both classes in the labels")
        }

        let rows = labels.count
        var random = Xoshiro256StarStar(seed: seed)
        var differences = [Double]()
        differences.reserveCapacity(replicates)
        var counts = [Int32](repeating: 0, count: rows)
        var discarded = 0
        while differences.count < replicates {
            var positives = 0
            counts.withUnsafeMutableBufferPointer { counts in
                counts.update(repeating: 0)
                for _ in 0..<rows {
                    let row = random.nextInt(below: rows)
                    counts[row] += 1
                    positives += Int(labels[row])
                }
            }
            guard positives > 0, positives < rows else {
                discarded += 1
                guard discarded < 100 * replicates else {
                    throw .input("too many bootstrap resamples held a single class; there are too few rows")
                }
                continue
            }
            let difference = counts.withUnsafeBufferPointer { counts in
                (candidateRanks.auc(weights: counts) ?? 0) - (championRanks.auc(weights: counts) ?? 0)
            }
            differences.append(difference)
        }
        differences.sort()
        let tail = (1 - confidence) / 2
        return (
            candidateAUC - championAUC,
            quantile(differences, tail),
            quantile(differences, 1 - tail)
        )
    }

    /// The `probability` quantile of sorted `values`, linear between order statistics.
    static func quantile(_ values: [Double], _ probability: Double) -> Double {
        let position = probability * Double(values.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, values.count - 1)
        let fraction = position - Double(lower)
        if fraction == 0 || values[lower] == values[upper] { return values[lower] }
        return values[lower] + fraction * (values[upper] - values[lower])
    }
}
