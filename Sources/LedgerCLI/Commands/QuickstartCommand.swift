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
            Creates a workspace (default: ./ledger-quickstart) with a key per role, adds a second approver and requires two approvals, generates a demo Audit DB, extracts it, builds a feature dataset, trains an Isolation Forest, evaluates it against the policy's gate, registers it and reproduces it bit for bit (each step signed by the pipeline key), has two approvers approve it and the deployer deploy it, appends signed events, signs a checkpoint, exports the log, verifies it against the trust anchor and the checkpoint, and then shows that a tampered copy is caught. Every step prints the command that does the same by hand.

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

        let shown = dir.hasSuffix("/") ? String(dir.dropLast()) : dir
        let logID = "quickstart.modelledger/demo"
        say("1. Create the workspace, a key per role, and the signed genesis event:")
        say("   ledger init \(shown) --log-id \(logID)")
        try await quiet(["init", root.path, "--log-id", logID])
        let workspace = try Workspace.load(root)
        say("   trust anchor (genesis leaf hash): \(workspace.genesis.hex)")

        say("2. Add a second approver, alice, and make the policy require two distinct approvals:")
        for (name, role) in [("alice", "approver")] {
            let path = root.appendingPathComponent("keys/\(name).key").path
            say("   ledger keys generate --name \(name) --role \(role) --out \(shown)/keys/\(name).key")
            say(
                "   ledger keys add --public \(shown)/keys/\(name).key.pub --name \(name) --role \(role) --key \(shown)/keys/admin.key --workspace \(shown)"
            )
            try await quiet(["keys", "generate", "--name", name, "--role", role, "--out", path])
            try await quiet([
                "keys", "add", "--public", path + ".pub", "--name", name, "--role", role, "--key",
                workspace.path(workspace.adminKeyPath), "--workspace", root.path,
            ])
        }
        let policyPath = root.appendingPathComponent("policy.json").path
        try Files.writeAtomically(Array(#"{"requiredApprovals":2}"#.utf8), to: policyPath)
        say("   echo '{\"requiredApprovals\":2}' > \(shown)/policy.json")
        say("   ledger policy set \(shown)/policy.json --workspace \(shown)")
        try await quiet(["policy", "set", policyPath, "--workspace", root.path])

        let noun = events == 1 ? "note" : "notes"
        say("3. Append \(events) signed \(noun) from the pipeline key, in one atomic batch:")
        say(
            "   ledger append --batch \(shown)/notes.jsonl --atomic --key \(shown)/keys/pipeline.key --workspace \(shown)"
        )
        let batchPath = root.appendingPathComponent("notes.jsonl").path
        let lines = (0..<events).map { index in
            "{\"type\":\"note.added\",\"data\":{\"text\":\"quickstart note \(index)\"}}"
        }
        try Files.writeAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: batchPath)
        try await quiet([
            "append", "--batch", batchPath, "--atomic", "--key", root.appendingPathComponent("keys/pipeline.key").path,
            "--workspace", root.path,
        ])

        say("4. Make a demo Audit DB (4 weeks, 60 actors) and extract it into a snapshot artifact:")
        let auditPath = root.appendingPathComponent("audit.db").path
        say("   ledger demo audit-db --out \(shown)/audit.db --weeks 4 --actors 60")
        say(
            "   ledger extract --source sqlite:\(shown)/audit.db --from 2026-01-05 --to 2026-02-02 --workspace \(shown)"
        )
        try await quiet(["demo", "audit-db", "--out", auditPath, "--weeks", "4", "--actors", "60"])
        let extracted = try await quiet([
            "extract", "--source", "sqlite:\(auditPath)", "--from", "2026-01-05", "--to", "2026-02-02", "--json",
            "--workspace", root.path,
        ])
        let extractSeq = extracted["seq"]?.integerValue ?? 0
        say(
            "   \(extracted["rows"]?.integerValue ?? 0) rows → \(extracted["snapshotDigest"]?.stringValue ?? "") (seq \(extractSeq))"
        )

        say("5. Build the feature dataset (per actor and hour, split by time) and record dataset.built:")
        say("   ledger dataset build --extract \(extractSeq) --workspace \(shown)")
        let dataset = try await quiet([
            "dataset", "build", "--extract", String(extractSeq), "--json", "--workspace", root.path,
        ])
        say(
            "   dataset \(dataset["datasetDigest"]?.stringValue ?? ""), manifest \(dataset["manifestDigest"]?.stringValue ?? "")"
        )

        let datasetDigest = dataset["datasetDigest"]?.stringValue ?? ""
        say("6. Train the Isolation Forest on the training rows and record model.trained:")
        say("   ledger train --dataset \(datasetDigest) --workspace \(shown)")
        let trained = try await quiet(["train", "--dataset", datasetDigest, "--json", "--workspace", root.path])
        let modelDigest = trained["artifactDigest"]?.stringValue ?? ""
        say("   model \(modelDigest) (seq \(trained["seq"]?.integerValue ?? 0))")

        say("7. Judge it on the holdout against the policy's gate; registered only if it passes:")
        say("   ledger evaluate --model \(modelDigest) --workspace \(shown)")
        let evaluated = try await quiet(["evaluate", "--model", modelDigest, "--json", "--workspace", root.path])
        say(
            "   verdict \(evaluated["verdict"]?.stringValue ?? "?"): \(evaluated["registered"]?.stringValue ?? "not registered")"
        )
        for reason in evaluated["reasons"]?.arrayValue ?? [] { say("     \(reason.stringValue ?? "")") }

        var reproduced: JSONValue = .null
        if let registered = evaluated["registered"]?.stringValue {
            say("8. Rebuild it from its events and the Audit DB, and compare every digest and metric:")
            say("   ledger reproduce \(registered) --source sqlite:\(shown)/audit.db --workspace \(shown)")
            reproduced = try await quiet([
                "reproduce", registered, "--source", "sqlite:\(auditPath)", "--json", "--workspace", root.path,
            ])
            say("   \(reproduced["identical"] == true ? "identical" : "DIFFERS")")
        }

        var deployed: JSONValue = .null
        if let registered = evaluated["registered"]?.stringValue {
            let keys = root.appendingPathComponent("keys").path
            say(
                "9. Two approvers approve it (never the key that trained it), as the policy requires, and the deployer deploys it:"
            )
            say(
                "   ledger approve \(registered) --reason \"holdout metrics reviewed\" --key \(shown)/keys/approver.key --workspace \(shown)"
            )
            say(
                "   ledger approve \(registered) --reason \"lineage checked\" --key \(shown)/keys/alice.key --workspace \(shown)"
            )
            say(
                "   ledger deploy \(registered) --target production --key \(shown)/keys/deployer.key --workspace \(shown)"
            )
            for (key, reason) in [("approver", "holdout metrics reviewed"), ("alice", "lineage checked")] {
                try await quiet([
                    "approve", registered, "--reason", reason, "--key", "\(keys)/\(key).key", "--workspace", root.path,
                ])
            }
            deployed = try await quiet([
                "deploy", registered, "--target", "production", "--key", "\(keys)/deployer.key", "--json",
                "--workspace", root.path,
            ])
            say(
                "   \(registered) is \(deployed["status"]?.stringValue ?? "?"); ask the log what served production when:"
            )
            say("   ledger deployments --target production --workspace \(shown)")
            say("   ledger lineage \(registered) --workspace \(shown)")
        }

        let checkpointPath = root.appendingPathComponent("checkpoint.txt").path
        let exportPath = root.appendingPathComponent("log.jsonl").path
        say("10. Sign a checkpoint (a signed tree head for auditors) and export the log:")
        say("   ledger checkpoint --out \(shown)/checkpoint.txt --workspace \(shown)")
        say("   ledger export --out \(shown)/log.jsonl --workspace \(shown)")
        try await quiet(["checkpoint", "--out", checkpointPath, "--workspace", root.path])
        try await quiet(["export", "--out", exportPath, "--workspace", root.path])

        let verifyCommand = "ledger verify --trust \(workspace.genesis.hex) --checkpoint \(shown)/checkpoint.txt --from"
        say("11. Verify the export against the trust anchor and the checkpoint, as an auditor would:")
        say("   \(verifyCommand) \(shown)/log.jsonl")
        let leaves = try VerifyCommand.readExport(exportPath)
        let verifier = Verifier(
            trustedGenesis: workspace.genesis,
            checkpoints: [try Files.readText(checkpointPath)],
            concurrency: ProcessInfo.processInfo.activeProcessorCount
        )
        let report = verifier.verify(leaves: leaves)
        if let failure = report.failure { throw VerificationFailed(failure: failure) }
        say("   verified \(report.entries) entries, root \(report.root.hex)")

        say("12. Tamper with copies: one note's text changed (tampered.jsonl), and the tail cut off (truncated.jsonl):")
        // Seq 0 is the genesis, seq 1 adds alice and seq 2 sets the policy; the notes follow.
        let victim = 3 + min(events - 1, 8)
        var tampered = leaves
        var envelope = try Envelope(jsonBytes: leaves[victim])
        var payload = String(decoding: envelope.payload, as: UTF8.self)
        payload = payload.replacingOccurrences(of: "quickstart note", with: "quickstart NOTE")
        envelope.payload = Array(payload.utf8)
        tampered[victim] = envelope.canonicalBytes()
        let truncatedLeaves = Array(leaves.prefix(leaves.count / 2))
        let tamperedPath = root.appendingPathComponent("tampered.jsonl").path
        let truncatedPath = root.appendingPathComponent("truncated.jsonl").path
        for (path, copy) in [(tamperedPath, tampered), (truncatedPath, truncatedLeaves)] {
            try Files.writeAtomically(copy.flatMap { $0 + [0x0a] }, to: path)
        }
        let caught = verifier.verify(leaves: tampered)
        let truncated = verifier.verify(leaves: truncatedLeaves)
        say("   \(verifyCommand) \(shown)/tampered.jsonl")
        say("   → exit 3: \(caught.failure?.description ?? "NOT CAUGHT")")
        say("   \(verifyCommand) \(shown)/truncated.jsonl")
        say("   → exit 3: \(truncated.failure?.description ?? "NOT CAUGHT")")

        let seconds = (ContinuousClock.now - started).inSeconds
        if json {
            console.json([
                "workspace": .string(root.path), "genesis": .string(workspace.genesis.hex),
                "entries": .int(report.entries), "root": .string(report.root.hex), "verified": true,
                "export": .string(exportPath), "checkpoint": .string(checkpointPath),
                "extract": extracted, "dataset": dataset, "trained": trained, "evaluated": evaluated,
                "reproduced": reproduced, "deployed": deployed,
                "tampered": [
                    "file": .string(tamperedPath), "seq": caught.failure?.seq.map { .int($0) } ?? .null,
                    "reason": caught.failure.map { .string($0.reason) } ?? .null,
                ],
                "truncated": [
                    "file": .string(truncatedPath), "seq": truncated.failure?.seq.map { .int($0) } ?? .null,
                    "reason": truncated.failure.map { .string($0.reason) } ?? .null,
                ],
                "seconds": .number(Bench.round3(seconds)),
            ])
        } else {
            say("")
            say("Done in \(String(format: "%.1f", seconds)) s. Try `ledger log --limit 5 --workspace \(shown)`.")
        }
    }

    /// Runs a subcommand with its output captured, surfacing its error; returns its JSON output, if any.
    @discardableResult
    private func quiet(_ arguments: [String]) async throws -> JSONValue {
        let console = Console(capturing: true)
        let status = await Console.$current.withValue(console) { await LedgerCommand.run(arguments: arguments) }
        guard status == 0 else {
            let reason = console.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw LedgerError(
                .invalidArgument,
                "`ledger \(arguments.prefix(2).joined(separator: " "))` failed: \(reason)"
            )
        }
        return (try? CanonicalJSON.parse(console.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
            ?? .null
    }
}
