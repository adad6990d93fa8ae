import ArgumentParser
import LedgerBench

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
        let result =
            if let data {
                try ModelBenchmark.csv(
                    data,
                    label: label,
                    parameters: forest.parameters,
                    threads: threading.threads,
                    runs: runs
                )
            } else {
                try ModelBenchmark.synthetic(
                    rows: rows,
                    features: features,
                    parameters: forest.parameters,
                    threads: threading.threads,
                    runs: runs
                )
            }
        Bench.print(result, json: json)
    }
}
