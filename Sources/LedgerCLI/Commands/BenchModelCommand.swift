import ArgumentParser
import LedgerCore
import LedgerML
import LedgerWorkspace

struct BenchModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time Isolation Forest training and scoring, on a CSV or on synthetic rows.",
        discussion: """
            With --data, trains on every row of the CSV and scores every row, --runs times, and reports the median fit, score and fit + score seconds, with the AUC-ROC and average precision when --label is given. This is what Benchmarks/isolation-forest/compare.py times against scikit-learn in the same run.

            Without --data, trains on --rows uniform random rows of --features columns and reports the median scoring rate over all of them (rows per second), the figure compared with scikit-learn's score_samples.

            Times are in-process, after the CSV is parsed. Build with -c release.

            Examples:
              swift run -c release ledger bench model --data Benchmarks/datasets/adbench/cardio.csv --label label --json
              swift run -c release ledger bench model --rows 1000000 --features 10 --json
            """
    )

    @Option(help: ArgumentHelp("A numeric CSV to train and score (see `ledger model train`).", valueName: "FILE.csv"))
    var data: String?

    @Option(help: ArgumentHelp("The 0/1 label column of --data.", valueName: "COLUMN"))
    var label: String?

    @Option(help: ArgumentHelp("Synthetic rows to score, without --data.", valueName: "N"))
    var rows = 1_000_000

    @Option(help: ArgumentHelp("Synthetic features, without --data.", valueName: "D"))
    var features = 10

    @OptionGroup var forest: ForestOptions

    @OptionGroup var threading: ThreadsOption

    @Option(help: ArgumentHelp("Runs per measurement; medians are reported.", valueName: "R"))
    var runs = 5

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard (1...25).contains(runs) else { throw ValidationError("--runs must be 1 to 25") }
        guard (1...10_000_000).contains(rows) else { throw ValidationError("--rows must be 1 to 10,000,000") }
        guard (1...1000).contains(features) else { throw ValidationError("--features must be 1 to 1000") }
    }

    func run() async throws {
        let parameters = forest.parameters
        let threads = threading.threads
        if let data {
            let bytes = try Files.read(data, .table)
            let (matrix, labels): (FeatureMatrix, [UInt8]?)
            do {
                (matrix, labels) = try NumericCSV.parse(bytes, labelColumn: label)
            } catch {
                throw LedgerError(.invalidArgument, "\(data): \(error.reason)")
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
                "data": .string(data), "rows": .int(matrix.rows), "features": .int(matrix.columns),
                "trees": .int(parameters.trees), "samples": .int(parameters.samples), "threads": .int(threads),
                "runs": .int(runs),
                "fitSeconds": .number(Bench.median(fits)), "scoreSeconds": .number(Bench.median(scorings)),
                "fitScoreSeconds": .number(Bench.median(totals)),
            ]
            if let labels {
                result["aucRoc"] = .number(try Metrics.aucROC(scores: scores, labels: labels))
                result["averagePrecision"] = .number(try Metrics.averagePrecision(scores: scores, labels: labels))
            }
            Bench.print(.object(result), json: json)
            return
        }
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
        Bench.print(
            [
                "rows": .int(rows), "features": .int(features), "trees": .int(parameters.trees),
                "samples": .int(parameters.samples),
                "threads": .int(threads), "runs": .int(runs),
                "scoreRowsPerSecond": .number(Bench.median(rates).rounded()),
            ],
            json: json
        )
    }
}
