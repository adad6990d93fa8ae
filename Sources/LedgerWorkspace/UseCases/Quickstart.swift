public import Foundation
import LedgerAudit
public import LedgerCore
public import LedgerPipeline
import LedgerStore

/// `ledger quickstart`: a demo workspace taken through the whole job, end to end, by the same use cases the commands
/// call. It narrates each step with the command that does the same by hand.
public enum Quickstart {
    /// What to build.
    public struct Options: Sendable {
        /// The folder for the demo workspace; it must not hold one already.
        public var root: URL
        /// The folder as the user typed it, for the commands the narration shows.
        public var shown: String
        /// Notes to append, to give the log some size.
        public var events = 1000
        /// Weeks of demo activity, and actors in the demo Audit DB.
        public var weeks = 12
        public var actors = 300

        public init(root: URL, shown: String) {
            self.root = root
            self.shown = shown
        }
    }

    /// One weekly run: its line in the walkthrough and its member of `--json`'s `weeks`.
    public struct Week: Sendable {
        public var line: String
        public var json: [String: JSONValue]
    }

    /// What the walkthrough did and found.
    public struct Result: Sendable {
        /// The session the walkthrough ran on, for the tables shown at the end.
        public let session: WorkspaceSession
        public let verification: VerificationReport
        public let exportPath: String
        public let checkpointPath: String
        public let weeks: [Week]
        /// The last version deployed, and its reproduction.
        public let lastDeployed: ModelVersionReference?
        public let reproduction: Reproduction?
        /// The tampered and the truncated copy of the export, and what the verifier said about each.
        public let tampered: (path: String, failure: VerificationFailure?)
        public let truncated: (path: String, failure: VerificationFailure?)
    }

    /// The log id of the demo workspace.
    public static let logID = "quickstart.modelledger/demo"

    /// Runs the walkthrough, calling `narrate` with each line of it.
    public static func run(
        _ options: Options,
        narrate say: @escaping @Sendable (String) -> Void
    ) async throws -> Result {
        let root = options.root
        let shown = options.shown
        if Files.exists(root.appendingPathComponent(Workspace.configName).path) {
            throw LedgerError(
                .invalidArgument,
                "\(root.path) already holds a workspace; pass --dir to choose another folder"
            )
        }
        let windows = try weeklyWindows(weeks: options.weeks)

        say("1. Create the workspace, a key per role, and the signed genesis event:")
        say("   ledger init \(shown) --log-id \(logID)")
        var workspace = try await Workspace.create(
            at: root,
            logID: logID,
            log: "sqlite:ledger.db",
            artifacts: "file:artifacts",
            source: nil
        ).workspace
        say("   trust anchor (genesis leaf hash): \(workspace.genesis.hex)")
        // The Audit DB of step 4 is the pipeline's source; set before the session opens, so that every run sees it.
        workspace.pipeline.source = "sqlite:audit.db"
        try workspace.saveConfig()
        let session = try await WorkspaceSession.open(workspace) { say("   warning: \($0)") }
        func key(_ role: Role) throws(LedgerError) -> SigningKey { try session.signer(nil, role: role) }

        say("2. Add a second approver, alice, and make the policy require two distinct approvals:")
        let alicePath = root.appendingPathComponent("keys/alice.key").path
        say("   ledger keys generate --name alice --role approver --out \(shown)/keys/alice.key")
        say(
            "   ledger keys add --public \(shown)/keys/alice.key.pub --name alice --role approver --key \(shown)/keys/admin.key --workspace \(shown)"
        )
        let alice = SigningKey()
        try KeyFiles.write(alice, to: alicePath)
        _ = try await session.addKey(alice.publicKey, name: "alice", roles: [.approver], signer: try key(.admin))
        let policyPath = root.appendingPathComponent("policy.json").path
        try Files.writeAtomically(Array(#"{"requiredApprovals":2}"#.utf8), to: policyPath)
        say("   echo '{\"requiredApprovals\":2}' > \(shown)/policy.json")
        say("   ledger policy set \(shown)/policy.json --workspace \(shown)")
        _ = try await session.setPolicy(["requiredApprovals": 2], signer: try key(.admin))

        let noun = options.events == 1 ? "note" : "notes"
        say("3. Append \(options.events) signed \(noun) from the pipeline key, in one atomic batch:")
        say(
            "   ledger append --batch \(shown)/notes.jsonl --atomic --key \(shown)/keys/pipeline.key --workspace \(shown)"
        )
        let notes = (0..<options.events).map { "quickstart note \($0)" }
        let lines = notes.map { "{\"type\":\"\(EventType.noteAdded)\",\"data\":{\"text\":\"\($0)\"}}" }
        try Files.writeAtomically(
            Array((lines.joined(separator: "\n") + "\n").utf8),
            to: root.appendingPathComponent("notes.jsonl").path
        )
        _ = try await session.ledger.append(
            try notes.map { (text) throws(LedgerError) in try EventDraft(NoteAdded(text: text)) },
            signedBy: try key(.pipeline)
        )

        let auditPath = root.appendingPathComponent("audit.db").path
        say(
            "4. Make a demo Audit DB (\(options.weeks) weeks, \(options.actors) actors, behaviour drifting from week 8) and make it the pipeline's source:"
        )
        say("   ledger demo audit-db --out \(shown)/audit.db --weeks \(options.weeks) --actors \(options.actors)")
        say("   (ledger.json: \"pipeline\": {\"source\": \"sqlite:audit.db\"})")
        _ = try DemoAuditGenerator.write(
            to: auditPath,
            configuration: DemoAuditConfiguration(weeks: options.weeks, actors: options.actors)
        )

        say(
            "5. Run the pipeline for each of the \(windows.count) weekly windows, as `ledger schedule` would; deploy every version that passes the gate, after two approvals:"
        )
        say("   ledger run --window FROM..TO --trigger schedule --workspace \(shown)")
        say(
            "   ledger approve MODEL@V --reason TEXT --key \(shown)/keys/approver.key   (and --key \(shown)/keys/alice.key)"
        )
        say("   ledger deploy MODEL@V --target production --key \(shown)/keys/deployer.key")
        var weeks: [Week] = []
        var lastDeployed: ModelVersionReference?
        let reader = LogReader(store: session.store)
        let approvers = [("holdout metrics reviewed", try key(.approver)), ("lineage checked", alice)]
        for (index, window) in windows.enumerated() {
            let outcomes = try await session.run(
                .trigger(window: window, trigger: "schedule", rerunFailed: false),
                source: nil,
                threads: 1
            ) { _ in }
            guard let history = outcomes.last?.history else { continue }
            var week = try await describe(history.jsonValue, reader: reader)
            if let registered = history.registered.flatMap(ModelVersionReference.init) {
                for (reason, approver) in approvers {
                    _ = try await session.approve(registered, reason: reason, signer: approver)
                }
                _ = try await session.deploy(registered, target: "production", signer: try key(.deployer))
                lastDeployed = registered
                week.json["deployed"] = .bool(true)
            }
            weeks.append(week)
            say("   [\(index + 1)/\(windows.count)] \(week.line)")
        }

        var reproduction: Reproduction?
        if let lastDeployed {
            say("6. Rebuild the serving model from its events and the Audit DB, and compare every digest and metric:")
            say("   ledger reproduce \(lastDeployed) --workspace \(shown)")
            let reproduced = try await session.reproduce(
                lastDeployed,
                auditSource: .sqlite(path: auditPath),
                threads: 1
            )
            reproduction = reproduced
            say("   \(reproduced.isIdentical ? "identical" : "DIFFERS")")
        }

        let checkpointPath = root.appendingPathComponent("checkpoint.txt").path
        let exportPath = root.appendingPathComponent("log.jsonl").path
        say("7. Sign a checkpoint (a signed tree head for auditors) and export the log:")
        say("   ledger checkpoint --out \(shown)/checkpoint.txt --workspace \(shown)")
        say("   ledger export --out \(shown)/log.jsonl --workspace \(shown)")
        let checkpoint = try await session.signCheckpoint(signer: try key(.log))
        try Files.writeAtomically(Array((checkpoint["note"]?.stringValue ?? "").utf8), to: checkpointPath)
        try Files.writeAtomically(try await workspace.exportedLog().bytes, to: exportPath)

        let verifyCommand = "ledger verify --trust \(workspace.genesis.hex) --checkpoint \(shown)/checkpoint.txt --from"
        say("8. Verify the export against the trust anchor and the checkpoint, as an auditor would:")
        say("   \(verifyCommand) \(shown)/log.jsonl")
        var leaves = try Files.read(exportPath, .export).split(separator: 0x0a, omittingEmptySubsequences: false)
            .map(Array.init)
        leaves.removeLast()  // the empty text after the final newline
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
        let victim = 3 + min(options.events - 1, 8)
        var tampered = leaves
        var envelope = try Envelope(jsonBytes: leaves[victim])
        let payload = String(decoding: envelope.payload, as: UTF8.self)
        envelope.payload = Array(payload.replacingOccurrences(of: "quickstart note", with: "quickstart NOTE").utf8)
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

        return Result(
            session: session,
            verification: report,
            exportPath: exportPath,
            checkpointPath: checkpointPath,
            weeks: weeks,
            lastDeployed: lastDeployed,
            reproduction: reproduction,
            tampered: (tamperedPath, caught.failure),
            truncated: (truncatedPath, truncated.failure)
        )
    }

    /// The weekly windows of the demo that have the features' 14 days of history: from the third week on.
    public static func weeklyWindows(weeks: Int) throws(LedgerError) -> [RunWindow] {
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
    static func describe(_ run: JSONValue, reader: LogReader) async throws -> Week {
        var json: [String: JSONValue] = [
            "window": run["window"] ?? .null, "run": run["run"] ?? .null, "drift": run["drift"] ?? .null,
            "verdict": run["verdict"] ?? .null, "registered": run["registered"] ?? .null,
        ]
        if let seq = run["steps"]?["drift"]?.integerValue {
            let drift = try await reader.event(at: UInt64(seq), of: DriftMeasured.self).data
            let largest = drift.features.max { $0.psi < $1.psi }
            json["largestPsi"] = largest.map { .number($0.psi) } ?? .null
            json["largestPsiFeature"] = largest.map { .string($0.name) } ?? .null
            json["scorePsi"] = drift.scores.map { .number($0.psi) } ?? .null
        }
        var aucs = ""
        if let seq = run["steps"]?["evaluate"]?.integerValue {
            let evaluated = try await reader.event(at: UInt64(seq), of: ModelEvaluated.self).data
            let candidate = evaluated.candidate.aucRoc
            json["candidateAucRoc"] = .number(candidate)
            aucs = "AUC-ROC \(Gate.format(candidate))"
            if let champion = evaluated.champion {
                let auc = champion.metrics.aucRoc
                json["championAucRoc"] = .number(auc)
                aucs += " vs \(champion.name)@\(champion.version) \(Gate.format(auc))"
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
        return Week(
            line: "\(window)  \(drift)\(aucs.padding(toLength: 40, withPad: " ", startingAt: 0)) \(outcome)",
            json: json
        )
    }
}
