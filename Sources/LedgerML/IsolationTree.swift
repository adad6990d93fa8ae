/// One isolation tree in the layout the scorer walks.
///
/// Nodes live in one array in allocation order: the root is node 0 and a split node's children are
/// allocated together, left at `left` and right at `left + 1`, when the split is made (in preorder,
/// left subtree first). A leaf points at itself with threshold +∞, so the walk
/// `index = left + (x[feature] > threshold ? 1 : 0)` may run a fixed `depth` steps for every row: a
/// row that reaches a leaf early stays there. Samples with `x[feature] <= threshold` go left.
struct IsolationTree: Sendable, Hashable {
    struct Node: Sendable, Hashable {
        /// The split threshold; +∞ for a leaf.
        var threshold: Double
        /// The column compared; 0 for a leaf.
        var feature: Int32
        /// The left child (the right child is `left + 1`); the node itself for a leaf.
        var left: Int32

        static let placeholder = Node(threshold: .infinity, feature: 0, left: 0)
    }

    /// All nodes, root first.
    var nodes: [Node]
    /// For a leaf, the number of training samples that reached it; 0 for a split node.
    var leafSizes: [UInt32]
    /// For a leaf at depth d holding n samples, `d + c(n)`; 0 for a split node.
    var pathLengths: [Double]
    /// The depth of the deepest leaf (0 for a tree that is a single leaf).
    var depth: Int

    func isLeaf(_ index: Int) -> Bool { Int(nodes[index].left) == index }
}

/// Grows the nodes of a tree in the layout above, in preorder, for the trainer and the artifact reader.
struct IsolationTreeBuilder {
    private(set) var nodes: [IsolationTree.Node] = []
    private(set) var leafSizes: [UInt32] = []
    private(set) var pathLengths: [Double] = []
    private(set) var depth = 0

    init(capacity: Int) {
        nodes.reserveCapacity(capacity)
        leafSizes.reserveCapacity(capacity)
        pathLengths.reserveCapacity(capacity)
        _ = allocate(count: 1)
    }

    /// Appends `count` placeholder nodes and returns the index of the first.
    private mutating func allocate(count: Int) -> Int {
        let first = nodes.count
        for _ in 0..<count {
            nodes.append(.placeholder)
            leafSizes.append(0)
            pathLengths.append(0)
        }
        return first
    }

    /// Makes `index` a split and returns the index of its left child (its right child is one more).
    mutating func split(_ index: Int, feature: Int, threshold: Double) -> Int {
        let left = allocate(count: 2)
        nodes[index] = IsolationTree.Node(threshold: threshold, feature: Int32(feature), left: Int32(left))
        return left
    }

    /// Makes `index` a leaf at `depth` that holds `size` training samples.
    mutating func leaf(_ index: Int, depth: Int, size: Int) {
        nodes[index] = IsolationTree.Node(threshold: .infinity, feature: 0, left: Int32(index))
        leafSizes[index] = UInt32(size)
        pathLengths[index] = Double(depth) + IsolationForest.averagePathLength(size)
        self.depth = max(self.depth, depth)
    }

    var tree: IsolationTree {
        IsolationTree(nodes: nodes, leafSizes: leafSizes, pathLengths: pathLengths, depth: depth)
    }
}
