/// Grows one isolation tree from its own random stream (Liu, Ting and Zhou 2008, with the choices
/// scikit-learn 1.9's `ExtraTreeRegressor(max_features=1, splitter="random")` makes).
///
/// The draws, in order, all from `Xoshiro256StarStar(seed: streamSeed(seed, index: tree))`:
/// 1. When the tree uses fewer features than the table has, a partial Fisher–Yates shuffle of the
///    column indices picks them (`j + nextInt(below: columns - j)` for `j` in `0..<k`).
/// 2. When ψ < rows, Floyd's algorithm picks ψ distinct rows (`nextInt(below: j + 1)` for `j` in
///    `rows - ψ ..< rows`). When ψ == rows, every row is used and nothing is drawn.
/// 3. Nodes are grown in preorder (left first). A node with at most one sample, or at the height
///    limit, is a leaf. Otherwise features are drawn without replacement by a Fisher–Yates step over
///    the tree's features (`j + nextInt(below: k - j)`); a feature that is constant on the node's
///    samples is skipped; when all are constant the node is a leaf. For the first non-constant
///    feature, with `lo`/`hi` its minimum and maximum on the node, the threshold is
///    `lo + nextUnitDouble() × (hi − lo)` (`lo × (1 − u) + hi × u` if the span overflows), replaced
///    by `lo` if rounding made it reach `hi` (as scikit-learn does). Samples `<= threshold` go left, so both children are non-empty.
struct IsolationTreeTrainer {
    let values: UnsafeBufferPointer<Double>
    let rows: Int
    let columns: Int
    let sampleSize: Int
    let featureCount: Int
    let heightLimit: Int

    func grow(seed: UInt64) -> IsolationTree {
        var random = Xoshiro256StarStar(seed: seed)

        // 1. The tree's features.
        var features = Array(0..<columns)
        if featureCount < columns {
            for j in 0..<featureCount {
                features.swapAt(j, j + random.nextInt(below: columns - j))
            }
            features.removeSubrange(featureCount...)
        }

        // 2. The tree's rows.
        var sampled = [Int]()
        sampled.reserveCapacity(sampleSize)
        if sampleSize == rows {
            sampled.append(contentsOf: 0..<rows)
        } else {
            var chosen = Set<Int>(minimumCapacity: sampleSize)
            for j in (rows - sampleSize)..<rows {
                let candidate = random.nextInt(below: j + 1)
                let pick = chosen.contains(candidate) ? j : candidate
                chosen.insert(pick)
                sampled.append(pick)
            }
        }

        // The subsample, column-major over the tree's features: local[f * ψ + s].
        var local = [Double](repeating: 0, count: featureCount * sampleSize)
        for (f, column) in features.enumerated() {
            for (s, row) in sampled.enumerated() {
                local[f * sampleSize + s] = values[row * columns + column]
            }
        }

        // 3. The nodes.
        var builder = IsolationTreeBuilder(capacity: 2 * sampleSize)
        var order = Array(0..<sampleSize)
        var draw = Array(0..<featureCount)
        var stack: [(node: Int, start: Int, end: Int, depth: Int)] = [(0, 0, sampleSize, 0)]
        local.withUnsafeBufferPointer { local in
            order.withUnsafeMutableBufferPointer { order in
                while let (node, start, end, depth) = stack.popLast() {
                    let count = end - start
                    guard count > 1, depth < heightLimit,
                        let (f, low, high) = drawFeature(&random, &draw, local, order, start, end)
                    else {
                        builder.leaf(node, depth: depth, size: count)
                        continue
                    }
                    var threshold = Self.threshold(random.nextUnitDouble(), low: low, high: high)
                    if !(threshold < high) || threshold < low { threshold = low }
                    // Partition order[start..<end]: values <= threshold first.
                    let column = UnsafeBufferPointer(rebasing: local[(f * sampleSize)..<((f + 1) * sampleSize)])
                    var i = start
                    var j = end - 1
                    while i <= j {
                        if column[order[i]] <= threshold {
                            i += 1
                        } else {
                            order.swapAt(i, j)
                            j -= 1
                        }
                    }
                    let left = builder.split(node, feature: features[f], threshold: threshold)
                    stack.append((left + 1, i, end, depth + 1))
                    stack.append((left, start, i, depth + 1))
                }
            }
        }
        return builder.tree
    }

    /// Draws features without replacement until one is not constant on `order[start..<end]`;
    /// returns its position among the tree's features and its minimum and maximum there.
    private func drawFeature(
        _ random: inout Xoshiro256StarStar,
        _ draw: inout [Int],
        _ local: UnsafeBufferPointer<Double>,
        _ order: UnsafeMutableBufferPointer<Int>,
        _ start: Int,
        _ end: Int
    ) -> (Int, Double, Double)? {
        for j in 0..<featureCount {
            draw.swapAt(j, j + random.nextInt(below: featureCount - j))
            let f = draw[j]
            let base = f * sampleSize
            var low = local[base + order[start]]
            var high = low
            for i in (start + 1)..<end {
                let value = local[base + order[i]]
                low = min(low, value)
                high = max(high, value)
            }
            if high > low { return (f, low, high) }
        }
        return nil
    }

    /// `low + unit × (high − low)`; when the span overflows, `low × (1 − unit) + high × unit`.
    static func threshold(_ unit: Double, low: Double, high: Double) -> Double {
        let span = high - low
        if span.isFinite { return low + unit * span }
        return low * (1 - unit) + high * unit
    }
}
