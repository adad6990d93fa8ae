/// Every tree of a forest in one flat node array, the form the scorer walks.
///
/// Derived from the trees when a model is made or parsed, never serialized. Node `left` indices are
/// global (tree-local index + the tree's root offset), so one buffer pointer serves all trees.
struct ScoringLayout: Sendable {
    let nodes: [IsolationTree.Node]
    let pathLengths: [Double]
    let roots: [Int]
    let depths: [Int]

    /// Rows handled per block: the block's rows stay in L1 while every tree walks them.
    static let blockRows = 128

    init(trees: [IsolationTree]) {
        var nodes = [IsolationTree.Node]()
        var pathLengths = [Double]()
        var roots = [Int]()
        nodes.reserveCapacity(trees.reduce(0) { $0 + $1.nodes.count })
        pathLengths.reserveCapacity(nodes.capacity)
        for tree in trees {
            let offset = nodes.count
            roots.append(offset)
            for node in tree.nodes {
                nodes.append(.init(threshold: node.threshold, feature: node.feature, left: node.left + Int32(offset)))
            }
            pathLengths.append(contentsOf: tree.pathLengths)
        }
        self.nodes = nodes
        self.pathLengths = pathLengths
        self.roots = roots
        self.depths = trees.map(\.depth)
    }

    /// Adds, for every row in `rows`, the path length of the row in every tree (in tree order) to
    /// `sums[row]`.
    func accumulate(
        _ values: UnsafePointer<Double>,
        columns: Int,
        rows: Range<Int>,
        into sums: UnsafeMutablePointer<Double>
    ) {
        nodes.withUnsafeBufferPointer { nodeBuffer in
            pathLengths.withUnsafeBufferPointer { pathBuffer in
                guard let nodes = nodeBuffer.baseAddress, let paths = pathBuffer.baseAddress else { return }
                var blockStart = rows.lowerBound
                while blockStart < rows.upperBound {
                    let blockEnd = min(blockStart + Self.blockRows, rows.upperBound)
                    for tree in roots.indices {
                        walk(
                            nodes,
                            paths,
                            root: roots[tree],
                            depth: depths[tree],
                            values,
                            columns: columns,
                            rows: blockStart..<blockEnd,
                            into: sums
                        )
                    }
                    blockStart = blockEnd
                }
            }
        }
    }

    /// One tree over a block of rows, eight rows at a time so their independent walks overlap.
    @inline(__always)
    private func walk(
        _ nodes: UnsafePointer<IsolationTree.Node>,
        _ paths: UnsafePointer<Double>,
        root: Int,
        depth: Int,
        _ values: UnsafePointer<Double>,
        columns: Int,
        rows: Range<Int>,
        into sums: UnsafeMutablePointer<Double>
    ) {
        var row = rows.lowerBound
        while row + 8 <= rows.upperBound {
            let x0 = values + row * columns
            let x1 = x0 + columns
            let x2 = x1 + columns
            let x3 = x2 + columns
            let x4 = x3 + columns
            let x5 = x4 + columns
            let x6 = x5 + columns
            let x7 = x6 + columns
            var i0 = root
            var i1 = root
            var i2 = root
            var i3 = root
            var i4 = root
            var i5 = root
            var i6 = root
            var i7 = root
            for _ in 0..<depth {
                let n0 = nodes[i0]
                let n1 = nodes[i1]
                let n2 = nodes[i2]
                let n3 = nodes[i3]
                let n4 = nodes[i4]
                let n5 = nodes[i5]
                let n6 = nodes[i6]
                let n7 = nodes[i7]
                i0 = Int(n0.left) &+ step(x0[Int(n0.feature)], n0.threshold)
                i1 = Int(n1.left) &+ step(x1[Int(n1.feature)], n1.threshold)
                i2 = Int(n2.left) &+ step(x2[Int(n2.feature)], n2.threshold)
                i3 = Int(n3.left) &+ step(x3[Int(n3.feature)], n3.threshold)
                i4 = Int(n4.left) &+ step(x4[Int(n4.feature)], n4.threshold)
                i5 = Int(n5.left) &+ step(x5[Int(n5.feature)], n5.threshold)
                i6 = Int(n6.left) &+ step(x6[Int(n6.feature)], n6.threshold)
                i7 = Int(n7.left) &+ step(x7[Int(n7.feature)], n7.threshold)
            }
            sums[row] += paths[i0]
            sums[row + 1] += paths[i1]
            sums[row + 2] += paths[i2]
            sums[row + 3] += paths[i3]
            sums[row + 4] += paths[i4]
            sums[row + 5] += paths[i5]
            sums[row + 6] += paths[i6]
            sums[row + 7] += paths[i7]
            row += 8
        }
        while row < rows.upperBound {
            let x = values + row * columns
            var i = root
            for _ in 0..<depth {
                let n = nodes[i]
                i = Int(n.left) &+ step(x[Int(n.feature)], n.threshold)
            }
            sums[row] += paths[i]
            row += 1
        }
    }
}

/// 1 when `value > threshold` (go right), else 0, as a zero-extended flag rather than a select,
/// so the compiler keeps the walk branch-free (a branch here mispredicts half the time).
@inline(__always)
private func step(_ value: Double, _ threshold: Double) -> Int {
    Int(unsafeBitCast(value > threshold, to: UInt8.self))
}

extension IsolationForest {
    /// Σ over trees of the path length of each row, in row order.
    func pathLengthSums(_ data: FeatureMatrix, threads: Int) -> [Double] {
        let rows = data.rows
        guard rows > 0 else { return [] }
        let layout = self.layout
        return [Double](unsafeUninitializedCapacity: rows) { sums, initialized in
            sums.initialize(repeating: 0)
            initialized = rows
            guard let sumBase = sums.baseAddress else { return }
            data.values.withUnsafeBufferPointer { values in
                guard let valueBase = values.baseAddress else { return }
                // Whole blocks per chunk, so a row's blocking never depends on the thread count.
                let blocks = (rows + ScoringLayout.blockRows - 1) / ScoringLayout.blockRows
                Parallel.forEachChunk(count: blocks, threads: threads) { blockRange in
                    let first = blockRange.lowerBound * ScoringLayout.blockRows
                    let last = min(rows, blockRange.upperBound * ScoringLayout.blockRows)
                    layout.accumulate(valueBase, columns: data.columns, rows: first..<last, into: sumBase)
                }
            }
        }
    }
}
