import ArgumentParser
import LedgerML
import LedgerWorkspace

/// `--threads`, shared by every command that trains or scores. Results never depend on it.
struct ThreadsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Threads for training and scoring; results never depend on it.", valueName: "N"))
    var threads = 1

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be from 1 to 256") }
    }
}

/// The Isolation Forest's hyperparameters and seed, shared by `model train` and `bench model`.
struct ForestOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The number of trees.", valueName: "N"))
    var trees = 100

    @Option(help: ArgumentHelp("Rows per tree (ψ); fewer if the data has fewer rows.", valueName: "N"))
    var samples = 256

    @Option(help: ArgumentHelp("The fraction of the features each tree may split on, in (0, 1].", valueName: "X"))
    var maxFeatures = 1.0

    @Option(help: ArgumentHelp("The seed of every random choice.", valueName: "S"))
    var seed: UInt64 = 0

    func validate() throws {
        guard (1...10_000).contains(trees) else { throw ValidationError("--trees must be from 1 to 10000") }
        guard samples >= 2 else { throw ValidationError("--samples must be at least 2") }
        guard maxFeatures > 0, maxFeatures <= 1 else { throw ValidationError("--max-features must be in (0, 1]") }
    }

    var parameters: IsolationForestParameters {
        IsolationForestParameters(trees: trees, samples: samples, maxFeatures: maxFeatures, seed: seed)
    }
}
