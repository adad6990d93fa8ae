import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct DatasetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build feature datasets from extracted snapshots.",
        discussion: """
            Example:
              ledger dataset build --extract 7 --json
            """,
        subcommands: [DatasetBuildCommand.self]
    )
}

struct DatasetBuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compute the feature dataset of a data.extracted snapshot and record dataset.built.",
        discussion: """
            Reads the snapshot named by the data.extracted event at SEQ from the workspace's artifact folder and computes one row per actor and UTC hour with the features of audit/features.v1.json (built in: the event records its SHA-256). Rows start 14 days after the extract's start, so that every row has a full history. The last --holdout-fraction of that time range, from a whole UTC hour, is the holdout.

            Stores two artifacts, the dataset (CSV: holdout, the ten features, label; no ids or other personal data) and its manifest (canonical JSON: spec digest, window, split, columns, row and label counts, a per-feature profile), and appends dataset.built signed with the workspace's pipeline key. The same snapshot and options always give byte-identical artifacts.

            Example:
              ledger extract --source sqlite:audit.db --from 2026-01-05 --to 2026-03-30 --json
              ledger dataset build --extract 7 --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The seq of the data.extracted event to build from.", valueName: "SEQ"))
    var extract: UInt64

    @Option(
        help: ArgumentHelp("The holdout's share of the time range, in whole percent: 0.01 to 0.99.", valueName: "X")
    )
    var holdoutFraction = 0.2

    @Option(help: ArgumentHelp("The signing key (default: the workspace's pipeline key).", valueName: "FILE"))
    var key: String?

    @Flag(help: "Print {\"seq\",\"datasetDigest\",\"manifestDigest\"} as JSON.")
    var json = false

    /// The fraction as the whole percent the event records, or nil if it is not one from 1 to 99.
    var holdoutPercent: Int? {
        let percent = (holdoutFraction * 100).rounded()
        guard holdoutFraction.isFinite, (1...99).contains(percent), abs(holdoutFraction * 100 - percent) < 1e-9
        else { return nil }
        return Int(percent)
    }

    func validate() throws {
        guard holdoutPercent != nil else {
            throw ValidationError("--holdout-fraction must be a whole percent from 0.01 to 0.99, such as 0.2")
        }
    }

    func run() async throws {
        let session = try await workspace.open()
        let steps = try session.modelSteps(key: key, threads: 1)
        guard let percent = holdoutPercent else { return }
        let recorded = try RecordedExtract(
            try await LogReader(store: steps.ledger.store).event(at: extract, ofType: .dataExtracted)
        )
        let built = try await steps.buildDataset(from: recorded, holdoutPercent: percent)
        if json {
            Console.current.json([
                "seq": .int(built.seq), "datasetDigest": .string(built.dataset.description),
                "manifestDigest": .string(built.manifest.description),
            ])
        } else {
            Console.current.out(
                "built \(built.result.trainRows) train and \(built.result.holdoutRows) holdout rows (holdout from "
                    + "\(built.result.split.holdoutFrom)) into \(built.dataset), manifest \(built.manifest)"
            )
            Console.current.out("appended seq \(built.seq) \(EventType.datasetBuilt)")
        }
    }
}
