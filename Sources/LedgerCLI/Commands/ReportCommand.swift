import ArgumentParser
import LedgerCore
import LedgerStore
import LedgerWorkspace

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained compliance report for one model version (HTML or Markdown).",
        discussion: """
            One file that opens anywhere, offline: inline CSS and SVG, no scripts, fonts, images or links to fetch. It holds a model card (purpose, training window and dataset digest, features, hyperparameters and seed, holdout metrics against the champion with the bootstrap interval, the verdict, the policy in force, approvals, known limitations); the signed timeline from extraction to deployment (each event's seq, time, signer name and keyid); drift charts (per-feature PSI over the measurements, and the PSI of the anomaly scores); the verification result (the whole log verified against the trust anchor, a checkpoint signed now by the workspace's log key and kept, and an inclusion proof of every event shown); and the command that reproduces the model.

            The log must verify: otherwise the report is not written and the command exits 3.

            Example:
              ledger report access-anomaly@3 --out report.html
              ledger report access-anomaly@3 --out report.md --format md
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Argument(help: ArgumentHelp("The version to report on.", valueName: "MODEL@VERSION"))
    var version: ModelVersionReference

    @Option(help: ArgumentHelp("The file to write (atomically).", valueName: "FILE"))
    var out: String

    @Option(help: ArgumentHelp("html or md.", valueName: "FORMAT"))
    var format = "html"

    func validate() throws {
        guard ["html", "md"].contains(format) else { throw ValidationError("--format must be html or md") }
    }

    func run() async throws {
        let reference = version
        let workspace = try workspace.locate()
        let report = try await ModelReport.read(workspace, name: reference.name, version: reference.version)
        let now = SystemClock().now()
        let text = format == "md" ? report.markdown(generated: now) : report.html(generated: now)
        try Files.writeAtomically(Array(text.utf8), to: out)
        Console.current.err(
            "wrote the \(format) report of \(reference) to \(out): \(report.timeline.count) signed events, "
                + "\(report.driftLabels.count) drift measurements, log verified (\(report.verification.entries) entries)"
        )
    }
}
