import ArgumentParser
import Foundation
import LedgerCore
import LedgerML
import LedgerWorkspace

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Train and score an Isolation Forest on any numeric CSV, with no workspace.",
        discussion: """
            Example:
              ledger model train --data cardio.csv --label label --seed 1 --out cardio.model
              ledger model score --model cardio.model --data cardio.csv --label label --json
            """,
        subcommands: [ModelTrainCommand.self, ModelScoreCommand.self]
    )
}

/// `--data` and `--label`, shared by `model train` and `model score`.
struct NumericCSVOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A CSV file: a header row, then numbers. Every column except --label is a feature.",
            valueName: "FILE.csv"
        )
    )
    var data: String

    @Option(help: ArgumentHelp("A 0/1 column (1 = anomaly) that is never used as a feature.", valueName: "COLUMN"))
    var label: String?

    @OptionGroup var threading: ThreadsOption

    func read() throws -> (matrix: FeatureMatrix, labels: [UInt8]?) {
        let bytes = try Files.read(data, .table)
        do {
            return try NumericCSV.parse(bytes, labelColumn: label)
        } catch {
            throw LedgerError(.invalidArgument, "\(data): \(error)")
        }
    }
}

struct ModelTrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an Isolation Forest and write the model artifact.",
        discussion: """
            The Isolation Forest of Liu, Ting and Zhou (2008) as scikit-learn implements it: each tree isolates a subsample of --samples rows drawn without replacement, choosing a random feature and a random split at each node, up to a height of ceil(log2 samples). A row's score is 2^(-E(h)/c(samples)), where h is its path length plus c(n) at the leaf: higher means more anomalous.

            Each tree draws from its own stream derived from --seed, so the same data and seed give a byte-identical model with any --threads. The artifact format is documented in docs/model-format.md.

            Example:
              ledger model train --data cardio.csv --label label --trees 100 --samples 256 --seed 1 --out cardio.model
            """
    )

    @OptionGroup var input: NumericCSVOptions

    @OptionGroup var forest: ForestOptions

    @Option(help: ArgumentHelp("Where to write the model; an existing file is replaced.", valueName: "MODEL"))
    var out: String

    @Flag(help: "Print {\"rows\",\"features\",\"trees\",\"samples\",\"seed\",\"sha256\",\"seconds\"} as JSON.")
    var json = false

    func run() async throws {
        let (matrix, _) = try input.read()
        let parameters = forest.parameters
        let clock = ContinuousClock()
        let started = clock.now
        let model: IsolationForest
        do {
            model = try IsolationForest.train(matrix, parameters: parameters, threads: input.threading.threads)
        } catch {
            throw LedgerError(.invalidArgument, "cannot train on \(input.data): \(error)")
        }
        let seconds = started.duration(to: clock.now).inSeconds
        let bytes = model.serialized()
        try Files.writeAtomically(bytes, to: out)
        let digest = Hash256.sha256(bytes)
        if json {
            Console.current.json([
                "rows": .int(matrix.rows), "features": .int(matrix.columns), "trees": .int(parameters.trees),
                "samples": .int(model.sampleSize), "seed": .int(parameters.seed), "sha256": .string(digest.hex),
                "seconds": .number(seconds),
            ])
        } else {
            Console.current.out(
                "trained \(parameters.trees) trees on \(matrix.rows) rows × \(matrix.columns) features in "
                    + "\(String(format: "%.3f", seconds)) s; wrote \(out) (sha256:\(digest.hex))"
            )
        }
    }
}

struct ModelScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score every row of a CSV with a model; higher means more anomalous.",
        discussion: """
            The CSV must have the model's feature columns (by name, in any order); other columns are an error, except --label. Scores go to --out as CSV (a `score` column, plus `label` when given), or to standard output one per line. With --label, --json prints {"rows","aucRoc","averagePrecision"}: AUC-ROC with ties as average ranks, and average precision as scikit-learn defines it.

            Example:
              ledger model score --model cardio.model --data cardio.csv --label label --json
            """
    )

    @OptionGroup var input: NumericCSVOptions

    @Option(help: ArgumentHelp("A model written by `ledger model train` or `ledger train`.", valueName: "MODEL"))
    var model: String

    @Option(help: ArgumentHelp("Write the scores here as CSV instead of to standard output.", valueName: "SCORES.csv"))
    var out: String?

    @Flag(help: "Print {\"rows\"} (and \"aucRoc\", \"averagePrecision\" with --label) as JSON.")
    var json = false

    func run() async throws {
        let forest: IsolationForest
        do {
            forest = try IsolationForest(serialized: try Files.read(model, .model))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.invalidArgument, "\(model) is not a model artifact: \(error)")
        }
        let (data, labels) = try input.read()
        let matrix = try Self.aligned(data, to: forest.featureNames, file: input.data)
        let scores: [Double]
        do {
            scores = try forest.scores(matrix, threads: input.threading.threads)
        } catch {
            throw LedgerError(.invalidArgument, "cannot score \(input.data): \(error)")
        }
        if let out {
            var text = labels == nil ? "score\n" : "score,label\n"
            text.reserveCapacity(scores.count * 24)
            for (row, score) in scores.enumerated() {
                text += "\(score)"
                if let labels { text += ",\(labels[row])" }
                text += "\n"
            }
            try Files.writeAtomically(Array(text.utf8), to: out)
        } else if !json {
            var text = ""
            text.reserveCapacity(scores.count * 20)
            for score in scores { text += "\(score)\n" }
            Console.current.writeOut(Array(text.utf8))
        }
        guard json else { return }
        var result: [String: JSONValue] = ["rows": .int(scores.count)]
        if let labels {
            do {
                result["aucRoc"] = .number(try Metrics.aucROC(scores: scores, labels: labels))
                result["averagePrecision"] = .number(try Metrics.averagePrecision(scores: scores, labels: labels))
            } catch {
                throw LedgerError(.invalidArgument, "cannot compute the metrics of \(input.data): \(error)")
            }
        }
        Console.current.json(.object(result))
    }

    /// `data` with its columns in the model's order; throws naming a missing or unexpected column.
    static func aligned(_ data: FeatureMatrix, to names: [String], file: String) throws -> FeatureMatrix {
        if data.featureNames == names { return data }
        let positions = Dictionary(data.featureNames.enumerated().map { ($1, $0) }) { first, _ in first }
        if let missing = names.first(where: { positions[$0] == nil }) {
            throw LedgerError(.invalidArgument, "\(file) has no column \"\(missing)\", which the model was trained on")
        }
        if let extra = data.featureNames.first(where: { !names.contains($0) }) {
            throw LedgerError(
                .invalidArgument,
                "\(file) has a column \"\(extra)\" that the model was not trained on (pass --label for a label column)"
            )
        }
        let order = names.compactMap { positions[$0] }
        var values: [Double] = []
        values.reserveCapacity(data.values.count)
        for row in 0..<data.rows {
            for column in order { values.append(data.values[row * data.columns + column]) }
        }
        return try FeatureMatrix(values: values, rows: data.rows, columns: names.count, featureNames: names)
    }
}
