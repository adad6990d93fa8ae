/// Scores sorted once in ascending order and cut into groups of equal score (ties), with each
/// row's label carried along, so AUC can be recomputed for any row weighting in O(n).
struct RankedScores {
    /// Row indices in ascending score order (ties in ascending row order).
    let order: [Int]
    /// The label of `order[i]`, 0 or 1.
    let orderedLabels: [UInt8]
    /// The start of each group of equal scores in `order`, followed by `order.count`.
    let groupStarts: [Int]

    /// Sorts `scores`. The caller has checked that they are finite and that `labels` has the same length.
    init(scores: [Double], labels: [UInt8]) {
        let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var groupStarts = [Int]()
        for position in order.indices where position == 0 || scores[order[position]] != scores[order[position - 1]] {
            groupStarts.append(position)
        }
        groupStarts.append(order.count)
        self.order = order
        self.orderedLabels = order.map { labels[$0] }
        self.groupStarts = groupStarts
    }

    /// The Mann–Whitney AUC with ties counted one half, each row counted `weights[row]` times
    /// (once each when `weights` is nil), or nil when the weighted rows hold only one class.
    ///
    /// Computed exactly in integers: 2·Σ_groups (w⁺_g · W⁻_below + ½ · w⁺_g · w⁻_g) / (2 · W⁺ · W⁻).
    func auc(weights: UnsafeBufferPointer<Int32>? = nil) -> Double? {
        var doubledWins: Int64 = 0
        var negativesBelow: Int64 = 0
        var positivesTotal: Int64 = 0
        order.withUnsafeBufferPointer { order in
            orderedLabels.withUnsafeBufferPointer { labels in
                for group in 0..<(groupStarts.count - 1) {
                    var positives: Int64 = 0
                    var negatives: Int64 = 0
                    for position in groupStarts[group]..<groupStarts[group + 1] {
                        let weight = weights.map { Int64($0[order[position]]) } ?? 1
                        let positive = Int64(labels[position])
                        positives += weight * positive
                        negatives += weight * (1 - positive)
                    }
                    doubledWins += positives * (2 * negativesBelow + negatives)
                    negativesBelow += negatives
                    positivesTotal += positives
                }
            }
        }
        guard positivesTotal > 0, negativesBelow > 0 else { return nil }
        return Double(doubledWins) / (2 * Double(positivesTotal) * Double(negativesBelow))
    }
}
