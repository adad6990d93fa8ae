import ArgumentParser
import Foundation
import LedgerArtifacts
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct ReproduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Rebuild a registered model from its events and check that every digest and metric matches.",
        discussion: """
            Walks the version's lineage back from model.registered and redoes each step:

              NAME artifact     reads every artifact the lineage names by digest back from the artifact store, which
                                checks the digest: the snapshot, the dataset, its manifest, the registered model,
                                the champion it was evaluated against, and any other subject; one check each
              audit rows        re-extracts the window from the Audit DB (--source) and compares the snapshot digest,
                                so rows edited after the fact are caught; skipped without --source
              dataset           rebuilds the dataset from the stored snapshot and compares its digest
              trainer           compares the trainer version (or an external trainer's file digests) with the record
              model             retrains with the recorded parameters and seed and compares the artifact digest
              metrics           re-scores the holdout (and the recorded champion) and compares every metric

            A missing or damaged artifact differs, and the steps that needed its bytes are skipped, naming it.
            Prints `identical` and exits 0 when nothing differs; otherwise names each step that differs and how, and exits 3.

            Example:
              ledger reproduce access-anomaly@1 --source sqlite:audit.db
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: ArgumentHelp("The registered version.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @Option(
        help: ArgumentHelp(
            "The Audit DB to re-extract the window from: sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE.",
            valueName: "SOURCE"
        )
    )
    var source: String?

    @OptionGroup var threading: ThreadsOption

    @Flag(help: "Print {\"model\",\"identical\",\"checks\":[{\"step\",\"outcome\",\"detail\"}]} as JSON.")
    var json = false

    func validate() throws {
        if let source { _ = try AuditSourceOption.validate(source) }
    }

    func run() async throws {
        let reference = version
        let reproduction = try await workspace.open().reproduce(
            version,
            auditSource: try source.map(AuditSourceOption.validate),
            threads: threading.threads
        )
        let console = Console.current
        if json {
            console.json([
                "model": .string(reference.description), "identical": .bool(reproduction.isIdentical),
                "checks": .array(reproduction.checks.map(\.jsonValue)),
            ])
        } else {
            for check in reproduction.checks {
                console.out(
                    "\(check.outcome.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(check.step): \(check.detail)"
                )
            }
            console.out(reproduction.isIdentical ? "identical" : "\(reference) does NOT reproduce")
        }
        if !reproduction.isIdentical { throw ReproductionDiffers(model: reference.description) }
    }
}

/// Exit 3 from `ledger reproduce`: the checks above it already said what differs.
struct ReproductionDiffers: Error, CustomStringConvertible {
    let model: String
    var description: String { "\(model) does not reproduce" }
}
