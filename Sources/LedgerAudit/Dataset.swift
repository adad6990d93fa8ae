// The public results of a dataset build: the split, the label counts, the feature profiles and the dataset.

public import LedgerCore

/// How a dataset's windows are split by time: windows starting at or after ``holdoutFrom`` are the holdout.
public struct DatasetSplit: Sendable, Hashable {
    /// The first instant of the holdout, a whole UTC hour.
    public let holdoutFrom: Timestamp
    /// The fraction of the eligible time range (not of the rows) given to the holdout.
    public let holdoutFraction: Double
}

/// One feature's distribution over every row of a dataset.
///
/// Quantiles are nearest-rank: over the `n` non-null values sorted ascending, the quantile `p` is the value
/// of rank `max(1, ⌈p × n⌉)` (counted from 1). `min`, `max`, `mean` and the quantiles are `nil` only when every
/// value is null.
public struct FeatureProfile: Sendable, Hashable {
    public let min: Double?
    public let max: Double?
    /// The sum of the non-null values in row order, divided by their count.
    public let mean: Double?
    public let p05: Double?
    public let p25: Double?
    public let p50: Double?
    public let p75: Double?
    public let p95: Double?
    /// Rows whose value is null (an empty CSV cell).
    public let nulls: Int
}

/// Labelled windows of one part of a dataset.
public struct LabelCounts: Sendable, Hashable {
    public let anomalous: Int
    public let benign: Int

    public init(anomalous: Int, benign: Int) {
        self.anomalous = anomalous
        self.benign = benign
    }
}

/// What ``DatasetBuilder/build(snapshot:from:to:featureSpec:holdoutFraction:)`` produced.
public struct BuiltDataset: Sendable {
    /// The dataset: CSV with a header row, `\n` line endings and a trailing newline.
    public let csv: [UInt8]
    /// The manifest: RFC 8785 canonical JSON.
    public let manifest: [UInt8]
    public let trainRows: Int
    public let holdoutRows: Int
    public let labelled: (train: LabelCounts, holdout: LabelCounts)
    /// One profile per feature, in the spec's order, over all rows.
    public let profile: [(name: String, profile: FeatureProfile)]
    public let split: DatasetSplit
    /// SHA-256 of ``csv``.
    public let datasetDigest: Hash256
    /// SHA-256 of the feature spec's bytes.
    public let featureSpecDigest: Hash256
}
