public import LedgerCore
public import LedgerML

/// A `dataset.built` dataset read for training and evaluation.
///
/// The dataset CSV (see `ledger dataset build`) has the columns `holdout`, the features, then `label`. Training
/// uses every row with `holdout` 0, labelled or not: the Isolation Forest is unsupervised. Evaluation uses the rows
/// with `holdout` 1 that carry a label. An empty feature cell (the contract's null, such as `total_bytes` of a
/// window whose events all lack `bytes`) is read as 0, both here and when serving.
public struct TrainingData: Sendable {
    public let featureNames: [String]
    public let train: FeatureMatrix
    /// The labelled holdout rows, in dataset order.
    public let holdout: FeatureMatrix
    /// One label per ``holdout`` row: 1 anomalous, 0 benign.
    public let holdoutLabels: [UInt8]

    /// Parses a dataset CSV. Throws `argument.invalid` naming the line for anything that is not one.
    public init(csv: [UInt8]) throws(LedgerError) {
        var lines = csv.split(separator: 0x0a, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw LedgerError(.invalidArgument, "the dataset is empty") }
        let columns = header.split(separator: 0x2c, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard columns.count >= 3, columns.first == "holdout", columns.last == "label" else {
            throw LedgerError(
                .invalidArgument,
                "the dataset's header must be holdout, the features, then label; found \(columns.prefix(4).joined(separator: ","))…"
            )
        }
        let featureNames = Array(columns.dropFirst().dropLast())
        var train: [Double] = []
        var holdout: [Double] = []
        var labels: [UInt8] = []
        var trainRows = 0
        var row: [Double] = []
        row.reserveCapacity(featureNames.count)
        for (index, line) in lines.enumerated().dropFirst() {
            let cells = line.split(separator: 0x2c, omittingEmptySubsequences: false)
            guard cells.count == columns.count else {
                throw LedgerError(
                    .invalidArgument,
                    "dataset line \(index + 1) has \(cells.count) cells, the header \(columns.count)"
                )
            }
            row.removeAll(keepingCapacity: true)
            for cell in cells.dropFirst().dropLast() {
                if cell.isEmpty {
                    row.append(0)
                } else if let value = Double(String(decoding: cell, as: UTF8.self)), value.isFinite {
                    row.append(value)
                } else {
                    throw LedgerError(.invalidArgument, "dataset line \(index + 1) has a cell that is not a number")
                }
            }
            let label = cells[cells.count - 1]
            switch (cells[0].elementsEqual([0x30]), cells[0].elementsEqual([0x31])) {
            case (true, _):
                train.append(contentsOf: row)
                trainRows += 1
            case (_, true):
                guard label.count == 1, let mark = label.first, mark == 0x30 || mark == 0x31 else {
                    guard label.isEmpty else {
                        throw LedgerError(.invalidArgument, "dataset line \(index + 1): label must be 0, 1 or empty")
                    }
                    continue
                }
                holdout.append(contentsOf: row)
                labels.append(mark - 0x30)
            default:
                throw LedgerError(.invalidArgument, "dataset line \(index + 1): holdout must be 0 or 1")
            }
        }
        guard trainRows > 0 else { throw LedgerError(.invalidArgument, "the dataset has no training rows") }
        self.featureNames = featureNames
        do {
            self.train = try FeatureMatrix(
                values: train,
                rows: trainRows,
                columns: featureNames.count,
                featureNames: featureNames
            )
            self.holdout = try FeatureMatrix(
                values: holdout,
                rows: labels.count,
                columns: featureNames.count,
                featureNames: featureNames
            )
        } catch {
            throw LedgerError(.invalidArgument, "the dataset is not a feature matrix: \(error)")
        }
        self.holdoutLabels = labels
    }
}
