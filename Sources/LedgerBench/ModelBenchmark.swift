public import LedgerCore
public import LedgerML
import LedgerWorkspace

/// `ledger bench model`: Isolation Forest training and scoring times.
public enum ModelBenchmark {
    /// Trains on every row of the CSV at `path` and scores every row, `runs` times: the median fit, score and
    /// fit + score seconds, with the AUC-ROC and average precision when `label` names the 0/1 label column.
    ///
    /// - Returns: `{"data", "rows", "features", "trees", "samples", "threads", "runs", "fitSeconds", "scoreSeconds",
    ///   "fitScoreSeconds"}`, plus `"aucRoc"` and `"averagePrecision"` with a label.
    /// - Throws: `LedgerError` if the file cannot be read (`invalidArgument` naming it if it is not a numeric CSV),
    ///   or training fails.
    public static func csv(
        _ path: String,
        label: String?,
        parameters: IsolationForestParameters,
        threads: Int,
        runs: Int
    ) throws -> JSONValue {
        let bytes = try Files.read(path, .table)
        let (matrix, labels): (FeatureMatrix, [UInt8]?)
        do {
            (matrix, labels) = try NumericCSV.parse(bytes, labelColumn: label)
        } catch {
            throw LedgerError(.invalidArgument, "\(path): \(error.reason)")
        }
        var fits: [Double] = []
        var scorings: [Double] = []
        var totals: [Double] = []
        var scores: [Double] = []
        for _ in 0..<runs {
            var model: IsolationForest?
            let fit = try Bench.time {
                model = try IsolationForest.train(matrix, parameters: parameters, threads: threads)
            }
            let score = try Bench.time { scores = try model?.scores(matrix, threads: threads) ?? [] }
            fits.append(fit)
            scorings.append(score)
            totals.append(fit + score)
        }
        var result: [String: JSONValue] = [
            "data": .string(path), "rows": .int(matrix.rows), "features": .int(matrix.columns),
            "trees": .int(parameters.trees), "samples": .int(parameters.samples), "threads": .int(threads),
            "runs": .int(runs),
            "fitSeconds": .number(Bench.median(fits)), "scoreSeconds": .number(Bench.median(scorings)),
            "fitScoreSeconds": .number(Bench.median(totals)),
        ]
        if let labels {
            result["aucRoc"] = .number(try Metrics.aucROC(scores: scores, labels: labels))
            result["averagePrecision"] = .number(try Metrics.averagePrecision(scores: scores, labels: labels))
        }
        return .object(result)
    }

    /// Trains on `rows` uniform random rows of `features` columns (SplitMix64 from the parameters' seed) and scores
    /// all of them `runs` times: the median scoring rate.
    ///
    /// - Returns: `{"rows", "features", "trees", "samples", "threads", "runs", "scoreRowsPerSecond"}`.
    /// - Throws: `LedgerError` if training or scoring fails.
    public static func synthetic(
        rows: Int,
        features: Int,
        parameters: IsolationForestParameters,
        threads: Int,
        runs: Int
    ) throws -> JSONValue {
        var state = parameters.seed &+ 0x9E37_79B9_7F4A_7C15
        var values: [Double] = []
        values.reserveCapacity(rows * features)
        for _ in 0..<(rows * features) {
            // SplitMix64: uniform doubles in [0, 1).
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            values.append(Double((z ^ (z >> 31)) >> 11) / 9_007_199_254_740_992)
        }
        let matrix = try FeatureMatrix(
            values: values,
            rows: rows,
            columns: features,
            featureNames: (0..<features).map { "f\($0)" }
        )
        let model = try IsolationForest.train(matrix, parameters: parameters, threads: threads)
        var rates: [Double] = []
        for _ in 0..<runs {
            let seconds = try Bench.time { _ = try model.scores(matrix, threads: threads) }
            rates.append(Double(rows) / seconds)
        }
        return [
            "rows": .int(rows), "features": .int(features), "trees": .int(parameters.trees),
            "samples": .int(parameters.samples),
            "threads": .int(threads), "runs": .int(runs),
            "scoreRowsPerSecond": .number(Bench.median(rates).rounded()),
        ]
    }
}
