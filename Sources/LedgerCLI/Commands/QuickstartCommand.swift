import ArgumentParser
import Foundation
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Create a demo workspace and walk through the signed log end to end.",
        discussion: """
            Creates a workspace (default: ./ledger-quickstart) with a key per role, adds a second approver and requires two approvals, and generates a demo Audit DB (12 weeks of 300 actors, whose behaviour drifts from week 8). Then it runs the pipeline for every weekly window that has the 14 days of history the features need, as `ledger schedule` would: each run extracts, builds the dataset, measures drift against the deployed model, trains, evaluates against it and registers the model if the gate passes (each step signed by the pipeline key). Every registered version is approved by two approvers (never the key that trained it) and deployed by the deployer. It reproduces the last deployed model bit for bit, signs a checkpoint, exports the log, verifies it against the trust anchor and the checkpoint, shows that tampered copies are caught, and prints the registry, the deployment history and the drift history. Every step prints the command that does the same by hand.

            Example:
              swift run -c release ledger quickstart
              swift run -c release ledger quickstart --dir /tmp/demo --json
            """
    )

    @Option(help: ArgumentHelp("The folder for the demo workspace; must not hold one already.", valueName: "DIR"))
    var dir = "ledger-quickstart"

    @Option(help: ArgumentHelp("Notes to append, to give the log some size.", valueName: "N"))
    var events = 1000

    @Option(help: ArgumentHelp("Weeks of demo activity: 3 to 52; a run for each from the third.", valueName: "N"))
    var weeks = 12

    @Option(help: ArgumentHelp("Actors in the demo Audit DB: 20 to 5,000.", valueName: "N"))
    var actors = 300

    @Flag(help: "Print a JSON summary instead of the walkthrough.")
    var json = false

    func validate() throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be 1 to 1,000,000") }
        guard (3...52).contains(weeks) else { throw ValidationError("--weeks must be 3 to 52") }
        guard (20...5000).contains(actors) else { throw ValidationError("--actors must be 20 to 5,000") }
    }

    func run() async throws {
        let console = Console.current
        let started = ContinuousClock.now
        var options = Quickstart.Options(
            root: URL(fileURLWithPath: dir).standardizedFileURL,
            shown: dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        )
        options.events = events
        options.weeks = weeks
        options.actors = actors
        let say: @Sendable (String) -> Void = { [json] line in if !json { console.out(line) } }
        let result = try await Quickstart.run(options, narrate: say)
        let workspace = result.session.workspace
        let root = workspace.root
        let shown = options.shown
        let weekly = result.weeks.map { JSONValue.object($0.json) }
        let lastDeployed = result.lastDeployed?.description
        let seconds = (ContinuousClock.now - started).inSeconds
        if json {
            var reproduced: JSONValue = .null
            if let reproduction = result.reproduction, let version = result.lastDeployed {
                reproduced = [
                    "model": .string(version.description), "identical": .bool(reproduction.isIdentical),
                    "checks": .array(reproduction.checks.map(\.jsonValue)),
                ]
            }
            console.json([
                "workspace": .string(root.path), "genesis": .string(workspace.genesis.hex),
                "entries": .int(result.verification.entries), "root": .string(result.verification.root.hex),
                "verified": true, "export": .string(result.exportPath), "checkpoint": .string(result.checkpointPath),
                "weeks": .array(weekly), "reproduced": reproduced,
                "serving": lastDeployed.map(JSONValue.string) ?? .null,
                "tampered": Self.caught(result.tampered),
                "truncated": Self.caught(result.truncated),
                "seconds": .number((seconds * 1000).rounded() / 1000),
            ])
            return
        }
        let projections = try await result.session.projections()
        say("10. The registry: every version, its status and its approvals:")
        say("   ledger registry --workspace \(shown)")
        Self.indented(console) { RegistryCommand.printTable(projections, model: nil, console: $0) }
        say("11. The deployment history of production:")
        say("   ledger deployments --target production --workspace \(shown)")
        Self.indented(console) { DeploymentsCommand.printTable(projections, targets: ["production"], console: $0) }
        say("12. The drift history, one line per run (`ledger drift --workspace \(shown)` shows every feature):")
        console.table(
            ["WINDOW", "VERDICT", "LARGEST PSI", "FEATURE", "SCORE PSI", "CANDIDATE AUC", "CHAMPION AUC"],
            weekly.map { week in
                [
                    week["run"]?.stringValue?.split(separator: "/").last.map(String.init) ?? "",
                    week["drift"]?.stringValue ?? "-", week["largestPsi"]?.doubleValue.map(Gate.format) ?? "-",
                    week["largestPsiFeature"]?.stringValue ?? "-",
                    week["scorePsi"]?.doubleValue.map(Gate.format) ?? "-",
                    week["candidateAucRoc"]?.doubleValue.map(Gate.format) ?? "-",
                    week["championAucRoc"]?.doubleValue.map(Gate.format) ?? "-",
                ]
            }
        )
        say("")
        say(
            "Done in \(String(format: "%.1f", seconds)) s. In \(shown): ledger verify, ledger registry, ledger drift, "
                + "ledger runs, ledger lineage \(lastDeployed ?? "MODEL@V"), ledger reproduce \(lastDeployed ?? "MODEL@V")."
        )
        say("Serve the deployed model and the ledger's API: ledger serve --workspace \(shown) --port 8080")
    }

    /// `{"file","seq","reason"}`: a tampered copy and where the verifier caught it.
    private static func caught(_ copy: (path: String, failure: VerificationFailure?)) -> JSONValue {
        [
            "file": .string(copy.path), "seq": copy.failure?.seq.map { .int($0) } ?? .null,
            "reason": copy.failure.map { .string($0.reason) } ?? .null,
        ]
    }

    /// Prints what `body` writes, indented by three spaces under the walkthrough's step.
    private static func indented(_ console: Console, _ body: (Console) -> Void) {
        let table = Console(capturing: true)
        body(table)
        for line in table.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            console.out("   \(line)")
        }
    }
}
