import Foundation

/// A trained Isolation Forest (Liu, Ting and Zhou 2008) with scikit-learn 1.9's semantics.
///
/// `scores` returns s(x) = 2^(−E[h(x)] / c(ψ)) in (0, 1): higher is more anomalous. This equals
/// scikit-learn's `-score_samples`. A model is a value: it compares, hashes and serializes by its
/// content, and `serialized()` is a pure function of the training data and parameters (never of
/// the thread count).
public struct IsolationForest: Sendable, Hashable {
    /// The algorithm this type implements, for artifact metadata.
    public static let algorithm = "isolation-forest"
    /// The implementation's version. It changes whenever the same data and parameters would train
    /// a different model (different bytes), so a recorded model can name the code that made it.
    public static let trainerVersion = "ledger-iforest/1"

    /// The parameters the model was trained with, as given.
    public let parameters: IsolationForestParameters
    /// ψ, the number of rows each tree was grown on: `min(parameters.samples, trainingRows)`.
    public let sampleSize: Int
    /// The number of rows in the training data.
    public let trainingRows: Int
    /// The training data's column names, in order. Scored data MUST have the same names in the same order.
    public let featureNames: [String]
    let trees: [IsolationTree]
    /// The trees flattened for scoring; derived from `trees`, so not part of equality.
    let layout: ScoringLayout

    init(
        parameters: IsolationForestParameters,
        sampleSize: Int,
        trainingRows: Int,
        featureNames: [String],
        trees: [IsolationTree]
    ) {
        self.parameters = parameters
        self.sampleSize = sampleSize
        self.trainingRows = trainingRows
        self.featureNames = featureNames
        self.trees = trees
        self.layout = ScoringLayout(trees: trees)
    }

    public static func == (lhs: IsolationForest, rhs: IsolationForest) -> Bool {
        lhs.parameters == rhs.parameters && lhs.sampleSize == rhs.sampleSize && lhs.trainingRows == rhs.trainingRows
            && lhs.featureNames == rhs.featureNames && lhs.trees == rhs.trees
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(parameters)
        hasher.combine(sampleSize)
        hasher.combine(trainingRows)
        hasher.combine(featureNames)
        hasher.combine(trees)
    }

    /// Trains a forest on every row of `data`.
    ///
    /// Trees are grown on up to `threads` threads (`threads == 1` spawns nothing). The result,
    /// including its serialized bytes, does not depend on `threads`. Throws `ml.parameters` for
    /// parameters out of range or `threads < 1`, and `ml.input` for fewer than 2 rows.
    public static func train(
        _ data: FeatureMatrix,
        parameters: IsolationForestParameters,
        threads: Int = 1
    ) throws(MLError) -> IsolationForest {
        try parameters.validate()
        guard threads >= 1 else { throw .parameters("threads must be at least 1, got \(threads)") }
        guard data.rows >= 2 else { throw .input("training needs at least 2 rows, got \(data.rows)") }
        let sampleSize = min(parameters.samples, data.rows)
        let treeCount = parameters.trees
        let trees = data.values.withUnsafeBufferPointer { values in
            let trainer = IsolationTreeTrainer(
                values: values,
                rows: data.rows,
                columns: data.columns,
                sampleSize: sampleSize,
                featureCount: parameters.featuresPerTree(columns: data.columns),
                heightLimit: heightLimit(sampleSize: sampleSize)
            )
            let grown = UnsafeMutableBufferPointer<IsolationTree>.allocate(capacity: treeCount)
            defer { grown.deallocate() }
            Parallel.forEachChunk(count: treeCount, threads: threads) { range in
                for index in range {
                    let seed = Xoshiro256StarStar.streamSeed(parameters.seed, index: UInt64(index))
                    (grown.baseAddress.unsafelyUnwrapped + index).initialize(to: trainer.grow(seed: seed))
                }
            }
            let trees = Array(grown)
            _ = grown.deinitialize()
            return trees
        }
        return IsolationForest(
            parameters: parameters,
            sampleSize: sampleSize,
            trainingRows: data.rows,
            featureNames: data.featureNames,
            trees: trees
        )
    }

    /// The anomaly score of every row of `data`, in row order, each in (0, 1).
    ///
    /// Rows are scored on up to `threads` threads; the scores do not depend on `threads`. Throws
    /// `ml.input` when `data.featureNames` differs from `featureNames` (count, names or order), and
    /// `ml.parameters` for `threads < 1`.
    public func scores(_ data: FeatureMatrix, threads: Int = 1) throws(MLError) -> [Double] {
        guard threads >= 1 else { throw .parameters("threads must be at least 1, got \(threads)") }
        guard data.columns == featureNames.count else {
            throw .input("the data has \(data.columns) feature columns but the model has \(featureNames.count)")
        }
        if let column = featureNames.indices.first(where: { data.featureNames[$0] != featureNames[$0] }) {
            throw .input(
                "feature column \(column + 1) is \"\(data.featureNames[column])\" but the model expects "
                    + "\"\(featureNames[column])\""
            )
        }
        var sums = pathLengthSums(data, threads: threads)
        let scale = -1.0 / (Double(trees.count) * Self.averagePathLength(sampleSize))
        for index in sums.indices {
            sums[index] = exp2(sums[index] * scale)
        }
        return sums
    }

    /// The number of trees.
    public var treeCount: Int { trees.count }
}
