/// The hyperparameters of an Isolation Forest, with scikit-learn's meaning.
///
/// `validate()` (called by `IsolationForest.train`) enforces: `trees` in `1...10_000`, `samples` in
/// `2...16_777_216`, `0 < maxFeatures <= 1`.
public struct IsolationForestParameters: Sendable, Hashable {
    /// Allowed numbers of trees.
    public static let treeRange = 1...10_000
    /// Allowed subsample sizes (the upper bound keeps every count in the artifact a `UInt32`).
    public static let sampleRange = 2...16_777_216

    /// The number of trees (scikit-learn `n_estimators`).
    public var trees: Int
    /// The subsample size per tree before capping at the row count (scikit-learn `max_samples`, as an
    /// integer). Each tree sees ψ = min(samples, rows) rows drawn without replacement.
    public var samples: Int
    /// The fraction of features each tree may split on (scikit-learn `max_features`, as a float).
    ///
    /// Each tree draws `max(1, floor(maxFeatures × columns))` distinct features without replacement,
    /// exactly as scikit-learn's bagging does (`int(max_features * n_features_in_)`); with `1.0`
    /// every tree uses every feature.
    public var maxFeatures: Double
    /// The seed of every random draw made in training. Same seed and data give the same model bytes.
    public var seed: UInt64

    public init(trees: Int = 100, samples: Int = 256, maxFeatures: Double = 1.0, seed: UInt64) {
        self.trees = trees
        self.samples = samples
        self.maxFeatures = maxFeatures
        self.seed = seed
    }

    /// Throws `ml.parameters` naming the first parameter out of range.
    public func validate() throws(MLError) {
        guard Self.treeRange.contains(trees) else {
            throw .parameters(
                "trees must be in \(Self.treeRange.lowerBound)...\(Self.treeRange.upperBound), got \(trees)"
            )
        }
        guard Self.sampleRange.contains(samples) else {
            throw .parameters(
                "samples must be in \(Self.sampleRange.lowerBound)...\(Self.sampleRange.upperBound), got \(samples)"
            )
        }
        guard maxFeatures > 0, maxFeatures <= 1 else {
            throw .parameters("maxFeatures must be in (0, 1], got \(maxFeatures)")
        }
    }

    /// The number of features each tree draws for a table of `columns` columns.
    public func featuresPerTree(columns: Int) -> Int {
        min(columns, max(1, Int(maxFeatures * Double(columns))))
    }
}
