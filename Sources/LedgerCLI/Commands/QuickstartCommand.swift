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

        let auditPath = root.appendingPathComponent("audit.db").path
        say(
            "4. Make a demo Audit DB (\(weeks) weeks, \(actors) actors, behaviour drifting from week 8) and make it the pipeline's source:"
        )
        say("   ledger demo audit-db --out \(shown)/audit.db --weeks \(weeks) --actors \(actors)")
        say("   (ledger.json: \"pipeline\": {\"source\": \"sqlite:audit.db\"})")
        try await quiet(["demo", "audit-db", "--out", auditPath, "--weeks", String(weeks), "--actors", String(actors)])
        var configured = try Workspace.load(root)
        configured.pipeline.source = "sqlite:audit.db"
        try Files.writeAtomically(
            try CanonicalJSON.encode(configured.configJSON) + [0x0a],
            to: root.appendingPathComponent(Workspace.configName).path
        )

        let windows = try Self.weeklyWindows(weeks: weeks)
        say(
            "5. Run the pipeline for each of the \(windows.count) weekly windows, as `ledger schedule` would; deploy every version that passes the gate, after two approvals:"
        )
        say("   ledger run --window FROM..TO --trigger schedule --workspace \(shown)")
        say(
            "   ledger approve MODEL@V --reason TEXT --key \(shown)/keys/approver.key   (and --key \(shown)/keys/alice.key)"
        )
        say("   ledger deploy MODEL@V --target production --key \(shown)/keys/deployer.key")
        let keys = root.appendingPathComponent("keys").path
        var weekly: [JSONValue] = []
        let reader = LogReader(store: try await Workspace.load(root).openStore())
        var lastDeployed: String?
        for (index, window) in windows.enumerated() {
            let ran = try await quiet([
                "run", "--window", window.description, "--trigger", "schedule", "--json", "--workspace", root.path,
            ])
            let history = ran["runs"]?.arrayValue?.last ?? .null
            let week = try await Self.describe(history, reader: reader)
            var entry = week.json
            if let registered = history["registered"]?.stringValue {
                for (key, reason) in [("approver", "holdout metrics reviewed"), ("alice", "lineage checked")] {
                    try await quiet([
                        "approve", registered, "--reason", reason, "--key", "\(keys)/\(key).key", "--workspace",
                        root.path,
                    ])
                }
                try await quiet([
                    "deploy", registered, "--target", "production", "--key", "\(keys)/deployer.key", "--workspace",
                    root.path,
                ])
                lastDeployed = registered
                entry["deployed"] = .bool(true)
            }
            weekly.append(.object(entry))
            say("   [\(index + 1)/\(windows.count)] \(week.line)")
        }

        var reproduced: JSONValue = .null
        if let lastDeployed {
            say("6. Rebuild the serving model from its events and the Audit DB, and compare every digest and metric:")
            say("   ledger reproduce \(lastDeployed) --workspace \(shown)")
            reproduced = try await quiet([
                "reproduce", lastDeployed, "--source", "sqlite:\(auditPath)", "--json", "--workspace", root.path,
            ])
            say("   \(reproduced["identical"] == true ? "identical" : "DIFFERS")")
        }

        let checkpointPath = root.appendingPathComponent("checkpoint.txt").path
        let exportPath = root.appendingPathComponent("log.jsonl").path
        say("7. Sign a checkpoint (a signed tree head for auditors) and export the log:")
        say("   ledger checkpoint --out \(shown)/checkpoint.txt --workspace \(shown)")
        say("   ledger export --out \(shown)/log.jsonl --workspace \(shown)")
        try await quiet(["checkpoint", "--out", checkpointPath, "--workspace", root.path])
        try await quiet(["export", "--out", exportPath, "--workspace", root.path])

        let verifyCommand = "ledger verify --trust \(workspace.genesis.hex) --checkpoint \(shown)/checkpoint.txt --from"
        say("8. Verify the export against the trust anchor and the checkpoint, as an auditor would:")
        say("   \(verifyCommand) \(shown)/log.jsonl")
        let leaves = try VerifyCommand.readExport(exportPath)
        let verifier = Verifier(
            trustedGenesis: workspace.genesis,
            checkpoints: [try Files.readText(checkpointPath, .checkpoint)],
            concurrency: ProcessInfo.processInfo.activeProcessorCount
        )
        let report = verifier.verify(leaves: leaves)
        if let failure = report.failure { throw VerificationFailed(failure: failure) }
        say("   verified \(report.entries) entries, root \(report.root.hex)")

        say("9. Tamper with copies: one note's text changed (tampered.jsonl), and the tail cut off (truncated.jsonl):")
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
                "weeks": .array(weekly), "reproduced": reproduced,
                "serving": lastDeployed.map(JSONValue.string) ?? .null,
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
            for (number, title, arguments) in [
                ("10", "The registry: every version, its status and its approvals", ["registry"]),
                ("11", "The deployment history of production", ["deployments", "--target", "production"]),
            ] {
                say("\(number). \(title):")
                say("   ledger \(arguments.joined(separator: " ")) --workspace \(shown)")
                let table = try await captured(arguments + ["--workspace", root.path])
                for line in table.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                    say("   \(line)")
                }
            }
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
    }

    /// The weekly windows of the demo that have the features' 14 days of history: from the third week on.
    static func weeklyWindows(weeks: Int) throws(LedgerError) -> [RunWindow] {
        let start = DemoAuditConfiguration().start
        let week: Int64 = 7 * 86_400_000
        let first = Int((DatasetBuilder.lookbackV1 + week - 1) / week)
        guard weeks > first else {
            throw LedgerError(
                .invalidArgument,
                "--weeks must be more than \(first): the features need \(first) weeks of history"
            )
        }
        return try (first..<weeks).map { (index) throws(LedgerError) in
            try RunWindow(
                from: Timestamp(millisecondsSinceEpoch: start + Int64(index) * week),
                to: Timestamp(millisecondsSinceEpoch: start + Int64(index + 1) * week)
            )
        }
    }

    /// One week's line and JSON: the drift verdict, the candidate's and the champion's AUC-ROC, and the outcome.
    static func describe(_ run: JSONValue, reader: LogReader) async throws -> (line: String, json: [String: JSONValue])
    {
        var json: [String: JSONValue] = [
            "window": run["window"] ?? .null, "run": run["run"] ?? .null, "drift": run["drift"] ?? .null,
            "verdict": run["verdict"] ?? .null, "registered": run["registered"] ?? .null,
        ]
        if let seq = run["steps"]?["drift"]?.integerValue {
            let drift = try await reader.event(at: UInt64(seq), ofType: "drift.measured").data
            let largest = (drift["features"]?.arrayValue ?? []).max {
                ($0["psi"]?.doubleValue ?? 0) < ($1["psi"]?.doubleValue ?? 0)
            }
            json["largestPsi"] = largest?["psi"] ?? .null
            json["largestPsiFeature"] = largest?["name"] ?? .null
            json["scorePsi"] = drift["scores"]?["psi"] ?? .null
        }
        var aucs = ""
        if let seq = run["steps"]?["evaluate"]?.integerValue {
            let evaluated = try await reader.event(at: UInt64(seq), ofType: "model.evaluated").data
            let candidate = evaluated["candidate"]?["aucRoc"]?.doubleValue ?? 0
            json["candidateAucRoc"] = .number(candidate)
            aucs = "AUC-ROC \(Gate.format(candidate))"
            if let champion = evaluated["champion"] {
                let auc = champion["metrics"]?["aucRoc"]?.doubleValue ?? 0
                json["championAucRoc"] = .number(auc)
                aucs +=
                    " vs \(champion["name"]?.stringValue ?? "")@\(champion["version"]?.integerValue ?? 0) \(Gate.format(auc))"
            } else {
                aucs += " (first model)"
            }
        }
        let window =
            (try? RunWindow(
                from: run["window"]?["from"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
                    ?? Timestamp(millisecondsSinceEpoch: 0),
                to: run["window"]?["to"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
                    ?? Timestamp(millisecondsSinceEpoch: 1)
            ))?.description ?? "?"
        let drift = "drift \(run["drift"]?.stringValue ?? "—")".padding(toLength: 18, withPad: " ", startingAt: 0)
        let outcome =
            run["registered"]?.stringValue.map { "pass → \($0), approved twice, deployed" }
            ?? (run["verdict"]?.stringValue == "fail" ? "gate failed: the champion stays" : "not registered")
        return ("\(window)  \(drift)\(aucs.padding(toLength: 40, withPad: " ", startingAt: 0)) \(outcome)", json)
    }

    /// Runs a subcommand and returns its standard output, surfacing its error.
    private func captured(_ arguments: [String]) async throws -> String {
        let console = Console(capturing: true)
        let status = await Console.$current.withValue(console) { await LedgerCommand.run(arguments: arguments) }
        guard status == 0 else {
            throw LedgerError(.invalidArgument, "`ledger \(arguments[0])` failed: \(console.standardError)")
        }
        return console.standardOutput
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
