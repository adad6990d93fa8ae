import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the workspace's model on a dataset and record model.trained.",
        discussion: """
            Trains the trainer that ledger.json's "model" section configures (the built-in Isolation Forest by default, or an external command) on the training rows (holdout = 0) of a dataset that a dataset.built event recorded. Stores the model artifact under its SHA-256 and appends model.trained, signed with the pipeline key: the algorithm, the trainer version (for a command: its arguments, the digests of the files it names, and its environment), the parameters, the seed, the dataset, the artifact and the duration.

            The seed defaults to one derived from the dataset digest, so retraining the same dataset gives the same model. Then run `ledger evaluate --model DIGEST`.

            Example:
              ledger train --dataset sha256:4e12... --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The dataset's digest, as dataset.built recorded it.", valueName: "sha256:HEX"))
    var dataset: String

    @Option(
        help: ArgumentHelp("The seed (default: derived from the dataset digest), at most 2^53 - 1.", valueName: "S")
    )
    var seed: UInt64?

    @OptionGroup var threading: ThreadsOption

    @Option(help: ArgumentHelp("The signing key (default: the workspace's pipeline key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"seq\",\"artifactDigest\",\"datasetDigest\"} as JSON.")
    var json = false

    func validate() throws {
        guard ArtifactDigest(dataset) != nil else {
            throw ValidationError("--dataset must be a digest such as sha256:4e12… (64 lowercase hex digits)")
        }
        if let seed, seed > PipelineSteps.maxSeed { throw ValidationError("--seed must be at most 2^53 - 1") }
    }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        guard let digest = ArtifactDigest(dataset) else { return }
        let steps = try session.modelSteps(key: key, threads: threading.threads)
        let trainer = try workspace.model.makeTrainer(root: workspace.root.path, threads: threading.threads)
        let trained = try await steps.train(dataset: digest, trainer: trainer, seed: seed)
        if json {
            Console.current.json([
                "seq": .int(trained.seq), "artifactDigest": .string(trained.artifact.description),
                "datasetDigest": .string(trained.dataset.description),
            ])
        } else {
            Console.current.out(
                "trained on \(trained.rows) rows in \(trained.durationMs) ms: model \(trained.artifact)"
            )
            Console.current.out("appended seq \(trained.seq) \(EventType.modelTrained)")
            Console.current.out("next: ledger evaluate --model \(trained.artifact)")
        }
    }
}
