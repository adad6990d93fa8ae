import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore

struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Create a demo workspace and walk through the signed log end to end.",
        discussion: """
            Creates a workspace (default: ./ledger-quickstart), adds a pipeline and an approver key, appends signed events, signs a checkpoint, exports the log, verifies it against the trust anchor and the checkpoint, and then shows that a tampered copy is caught. Every step prints the command that does the same by hand.

            Example:
              swift run -c release ledger quickstart
              swift run -c release ledger quickstart --dir /tmp/demo --json
            """
    )

    @Option(help: ArgumentHelp("The folder for the demo workspace; must not hold one already.", valueName: "DIR"))
    var dir = "ledger-quickstart"

    @Option(help: ArgumentHelp("Notes to append, to give the log some size.", valueName: "N"))
    var events = 1000

    @Flag(help: "Print a JSON summary instead of the walkthrough.")
    var json = false

    func validate() throws {
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be 1 to 1,000,000") }
    }

    func run() async throws {
        let console = Console.current
        let say: (String) -> Void = { line in if !json { console.out(line) } }
        let root = URL(fileURLWithPath: dir).standardizedFileURL
        if Files.exists(root.appendingPathComponent(Workspace.configName).path) {
            throw LedgerError(
                .invalidArgument,
                "\(root.path) already holds a workspace; pass --dir to choose another folder"
            )
        }
        let started = ContinuousClock.now

        say("1. ledger init \(dir) --log-id quickstart.modelledger/demo")
        try await quiet(["init", root.path, "--log-id", "quickstart.modelledger/demo"])
        let workspace = try Workspace.load(root)
        say("   genesis (trust anchor) \(workspace.genesis.hex)")

        let pipelineKey = root.appendingPathComponent("keys/pipeline.key").path
        let approverKey = root.appendingPathComponent("keys/approver.key").path
        say("2. ledger keys generate/add: a pipeline key and an approver key")
        for (name, role, path) in [("pipeline", "pipeline", pipelineKey), ("approver", "approver", approverKey)] {
            try await quiet(["keys", "generate", "--name", name, "--role", role, "--out", path])
            try await quiet([
                "keys", "add", "--public", path + ".pub", "--name", name, "--role", role, "--key",
                workspace.path(workspace.adminKeyPath), "--workspace", root.path,
            ])
        }

        say("3. ledger append: \(events) signed notes from the pipeline key, in one atomic batch")
        let batchPath = root.appendingPathComponent("quickstart-notes.jsonl").path
        let lines = (0..<events).map { index in
            "{\"type\":\"note.added\",\"data\":{\"text\":\"quickstart note \(index)\"}}"
        }
        try Files.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: batchPath)
        try await quiet(["append", "--batch", batchPath, "--atomic", "--key", pipelineKey, "--workspace", root.path])

        let checkpointPath = root.appendingPathComponent("checkpoint.txt").path
        let exportPath = root.appendingPathComponent("log.jsonl").path
        say("4. ledger checkpoint --out checkpoint.txt; ledger export --out log.jsonl")
        try await quiet(["checkpoint", "--out", checkpointPath, "--workspace", root.path])
        try await quiet(["export", "--out", exportPath, "--workspace", root.path])

        say("5. ledger verify --from log.jsonl --trust <genesis> --checkpoint checkpoint.txt")
        let leaves = try VerifyCommand.readExport(exportPath)
        let checkpoint = try Files.readText(checkpointPath)
        let verifier = Verifier(
            trustedGenesis: workspace.genesis,
            checkpoints: [checkpoint],
            concurrency: ProcessInfo.processInfo.activeProcessorCount
        )
        let report = verifier.verify(leaves: leaves)
        guard report.isVerified else {
            throw VerificationFailed(
                failure: report.failure ?? VerificationFailure(seq: nil, code: .malformed, reason: "unknown")
            )
        }
        say("   verified \(report.entries) entries, root \(report.root.hex)")

        say("6. tamper with a copy: change one note's text and re-sign it with a key the log never added")
        var tampered = leaves
        let victim = min(10, leaves.count - 1)
        let original = try SignedEvent(leaf: leaves[victim])
        var forgedEvent = original.event
        forgedEvent.data = ["text": "this note was rewritten"]
        tampered[victim] = try SignedEvent(signing: forgedEvent, with: SigningKey()).leaf
        let caught = verifier.verify(leaves: tampered)
        say("   ledger verify: \(caught.failure?.description ?? "NOT CAUGHT")")
        let truncated = verifier.verify(leaves: Array(leaves.prefix(leaves.count / 2)))
        say("   and a truncated copy: \(truncated.failure?.description ?? "NOT CAUGHT")")

        let seconds = Bench.seconds(ContinuousClock.now - started)
        if json {
            console.json([
                "workspace": .string(root.path), "genesis": .string(workspace.genesis.hex),
                "entries": .int(report.entries),
                "root": .string(report.root.hex), "verified": true,
                "tamperDetected": .bool(caught.failure?.seq == UInt64(victim)),
                "truncationDetected": .bool(truncated.failure?.code == .checkpoint),
                "seconds": .number(Bench.round3(seconds)),
            ])
        } else {
            say("")
            say(
                "Done in \(String(format: "%.1f", seconds)) s. The workspace is \(root.path); try `ledger log --limit 5` there."
            )
        }
    }

    /// Runs a subcommand with its output discarded, surfacing its error.
    private func quiet(_ arguments: [String]) async throws {
        let console = Console(capturing: true)
        let status = await Console.$current.withValue(console) { await LedgerCommand.run(arguments: arguments) }
        guard status == 0 else {
            throw LedgerError(
                .invalidArgument,
                "`ledger \(arguments.first ?? "")` failed: \(console.standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
    }
}
