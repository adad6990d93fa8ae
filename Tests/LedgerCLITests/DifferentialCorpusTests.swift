import Foundation
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger verify --from` reads an export the way the auditor's script and the Python peer do: every line, the last
/// included, ends with exactly one newline.
@Suite("An export's lines each end with one newline")
struct ExportLineTests {
    @Test("an export whose last line lacks its newline, or an empty file, is refused with a message naming the file")
    func refusesCutFiles() async throws {
        let workspace = try await TestWorkspace.make()
        let export = workspace.folder.path("log.jsonl")
        try #require(await workspace.run("export", "--out", export).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: export))
        #expect(await ledger("verify", "--from", export, "--trust", workspace.genesis).status == 0)

        let cut = workspace.folder.path("cut.jsonl")
        try bytes.dropLast().write(to: URL(fileURLWithPath: cut))
        let refused = await ledger("verify", "--from", cut, "--trust", workspace.genesis)
        #expect(refused.status == 3, "a cut export is a verification failure")
        #expect(refused.err.contains(cut) && refused.err.contains("lacks its final newline"), "\(refused.err)")
        let refusedJSON = await ledger("verify", "--from", cut, "--trust", workspace.genesis, "--json")
        #expect(refusedJSON.status == 3 && refusedJSON.json?["ok"] == false, "\(refusedJSON.out)")

        let empty = try workspace.folder.write("", to: "empty.jsonl")
        let none = await ledger("verify", "--from", empty, "--untrusted")
        #expect(none.status == 3)
        #expect(none.err.contains(empty) && none.err.contains("is empty"), "\(none.err)")
    }
}

/// Issue 16, "A differential corpus": seeded hostile variants of real exports, each judged by `ledger verify`, by the
/// auditor's script (`docs/auditor/verify_export.py`) and by the Python peer (`Tests/Peers/ledger_peer.py`).
///
/// `Tests/Peers/differential_corpus.py` makes the variants (bit flips, byte insertions and deletions, truncations,
/// newline changes, envelope and payload spellings, numbers, Unicode forms, data edits, re-signed and re-chained
/// entries with keys the log trusts and with one it never added) and runs both Python verifiers on them in one
/// process; this test runs `ledger verify --from FILE --trust GENESIS --json` on each, in process, through the same
/// command an operator types.
///
/// The rule: all three give the same verdict, except where `ledger verify` refuses for a rule the Python verifiers
/// do not check (codes `event.schema` and `authority.policy`: data schemas, governance and model rules), where they
/// may accept but the script must name the rules it skipped. Every verdict of the script names them.
@Suite("Differential corpus: ledger verify, the auditor's script and the Python peer agree")
struct DifferentialCorpusTests {
    static let corpusScript = ExternalTools.repositoryRoot.appendingPathComponent("Tests/Peers/differential_corpus.py")
        .path
    /// The codes of the rules that `ledger verify` checks and the Python verifiers do not (or not all of).
    static let skippedCodes: Set<String> = ["event.schema", "authority.policy"]
    static let variantsPerSource = 300

    /// A real export, the private keys of its signers, and a checkpoint of it if there is one.
    struct Source {
        let export: String
        let keys: [String]
        let checkpoint: String?

        var jsonValue: JSONValue {
            [
                "export": .string(export), "keys": .array(keys.map(JSONValue.string)),
                "checkpoint": checkpoint.map(JSONValue.string) ?? .null,
            ]
        }
    }

    /// A CLI workspace (with a checkpoint, which every third variant is checked against) whose log id, key name, notes and subject hold non-ASCII text: its export and signing keys.
    static func workspaceSource(_ folder: TemporaryFolder) async throws -> Source {
        let workspace = try await TestWorkspace.make(logID: "caf\u{E9}.example/ledger")
        let bob = folder.path("bob.key")
        let pipeline = "\(workspace.root)/keys/pipeline.key"
        let digest = Hash256.sha256([1, 2, 3]).hex
        let steps: [[String]] = [
            ["keys", "generate", "--name", "ren\u{E9}", "--role", "approver", "--role", "pipeline", "--out", bob],
            [
                "keys", "add", "--public", bob + ".pub", "--name", "ren\u{E9}", "--role", "approver", "--role",
                "pipeline", "--key", workspace.adminKey, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "note.added", "--data", #"{"text":"Grüße 👋 \"quoted\" \u0001","refs":[0,1]}"#,
                "--key", bob, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "policy.set", "--data",
                #"{"policy":{"requiredApprovals":2,"gate":{"minAucRoc":0.8}}}"#, "--key", workspace.adminKey,
                "--workspace", workspace.root,
            ],
            [
                "append", "--type", "note.added", "--data", #"{"text":"caf\u00e9"}"#, "--subject",
                "mod\u{E8}le=sha256:\(digest)", "--key", bob, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "note.added", "--data", #"{"text":"by the pipeline"}"#, "--key", pipeline,
                "--workspace", workspace.root,
            ],
        ]
        for step in steps {
            let result = await ledger(step)
            try #require(result.status == 0, "`ledger \(step.joined(separator: " "))` failed: \(result.err)")
        }
        let keyID = try #require(
            await workspace.run("keys", "list", "--json").json?.arrayValue?.last?["keyid"]?.stringValue
        )
        try #require(
            await workspace.run("keys", "revoke", keyID, "--reason", "rotation", "--key", workspace.adminKey)
                .status == 0
        )
        try #require(
            await workspace.run(
                "append",
                "--type",
                "note.added",
                "--data",
                #"{"text":"after"}"#,
                "--key",
                pipeline
            ).status == 0
        )
        let export = folder.path("workspace.jsonl")
        try #require(await workspace.run("export", "--out", export).status == 0)
        let checkpoint = folder.path("workspace-checkpoint.txt")
        try #require(await workspace.run("checkpoint", "--out", checkpoint).status == 0)
        // The workspace's folder goes with `workspace`: keep copies of its keys beside the export.
        let keys = try ["admin", "log", "pipeline", "approver", "deployer"].map { name in
            try folder.write(
                String(contentsOfFile: "\(workspace.root)/keys/\(name).key", encoding: .utf8),
                to: "\(name).key"
            )
        }
        return Source(export: export, keys: keys + [bob], checkpoint: checkpoint)
    }

    /// A governance history from the simulator (runs, datasets, models evaluated, registered, approved, deployed,
    /// rolled back; policy changes), appended through the real append path: its leaves as an export, and its keys.
    static func simulatedSource(_ folder: TemporaryFolder) async throws -> Source {
        let store = InMemoryEventStore()
        let log = try await GovernanceSimulator.makeLedger(store: store)
        var simulator = GovernanceSimulator(seed: 16)
        try await simulator.run(40, on: log)
        let leaves = await store.leaves(upTo: await store.size())
        let export = folder.path("simulated.jsonl")
        try Data(leaves.flatMap { $0 + [0x0a] }).write(to: URL(fileURLWithPath: export))
        let signers =
            [GovernanceSimulator.Keys.admin, GovernanceSimulator.Keys.pipeline, GovernanceSimulator.Keys.deployer]
            + GovernanceSimulator.Keys.approvers
        let keys = try signers.enumerated().map { index, key in
            try folder.write(key.pemRepresentation, to: "simulated-\(index).key")
        }
        return Source(export: export, keys: keys, checkpoint: nil)
    }

    /// What one verifier said about one variant.
    enum Verdict: Equatable {
        case accepted
        case refused(code: String?)
        /// No verdict: a usage error or a crash, which is a bug in the harness or the verifier.
        case none(String)

        var word: String {
            switch self {
            case .accepted: "accepted"
            case .refused(let code): "refused" + (code.map { " (\($0))" } ?? "")
            case .none(let why): "no verdict (\(why))"
            }
        }
    }

    static func pythonVerdict(_ judged: JSONValue?) -> Verdict {
        switch judged?["status"]?.integerValue {
        case 0: .accepted
        case 1: .refused(code: nil)
        default:
            .none(
                "status \(judged?["status"].map { "\($0)" } ?? "missing"): \(judged?["output"].map { "\($0)" } ?? "")"
            )
        }
    }

    @Test(
        "every hostile variant of two real exports gets one verdict from the three verifiers",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required)
    )
    func corpus() async throws {
        let python = try #require(ExternalTools.python, "python with cryptography and rfc8785 (set LEDGER_PYTHON)")
        let folder = try TemporaryFolder("corpus")
        let sources = [try await Self.workspaceSource(folder), try await Self.simulatedSource(folder)]
        let config: JSONValue = [
            "seed": 16, "perSource": .int(Self.variantsPerSource), "out": .string(folder.path("variants")),
            "sources": .array(sources.map(\.jsonValue)),
        ]
        let configFile = try folder.write(
            String(decoding: try CanonicalJSON.encode(config), as: UTF8.self),
            to: "config.json"
        )
        let made = try runProcess(python, [Self.corpusScript, configFile])
        try #require(made.status == 0, "\(made.out) \(made.err)")
        let manifestBytes = try Data(contentsOf: URL(fileURLWithPath: folder.path("variants/manifest.json")))
        let variants = try #require(try CanonicalJSON.parse(Array(manifestBytes))["variants"]?.arrayValue)
        try #require(variants.count == 2 * Self.variantsPerSource)

        var refusedByAll = 0
        var acceptedByAll = 0
        var skipped = (scriptRefused: 0, scriptAccepted: 0, peerAccepted: 0)
        var disagreements: [String] = []
        for variant in variants {
            let file = try #require(variant["file"]?.stringValue)
            let trust = try #require(variant["trust"]?.stringValue)
            let mutation = variant["mutation"]?.stringValue ?? "?"
            let checkpoint = variant["checkpoint"]?.stringValue.map { ["--checkpoint", $0] } ?? []
            let ours = await ledger(["verify", "--from", file, "--trust", trust, "--json"] + checkpoint)
            let swift: Verdict =
                switch ours.status {
                case 0: .accepted
                // 1: the file itself is refused before any entry (readExport: no final newline, CRLF, blank line).
                case 1: .refused(code: ours.json?["code"]?.stringValue ?? "export")
                case 3: .refused(code: ours.json?["code"]?.stringValue)
                default: .none("exit \(ours.status): \(ours.err)")
                }
            let script = Self.pythonVerdict(variant["script"])
            let peer = Self.pythonVerdict(variant["peer"])
            let scriptSays = variant["script"]?["output"]
            let named = scriptSays?["not_checked"]?.stringValue?.contains("governance and model rules") == true
            func disagree(_ why: String) {
                let reasons = [
                    "ledger verify: \(swift.word) \(ours.json?["reason"]?.stringValue ?? ours.err)",
                    "script: \(script.word) \(scriptSays?["reason"]?.stringValue ?? "")",
                    "peer: \(peer.word) \(variant["peer"]?["output"]?["reason"]?.stringValue ?? "")",
                ]
                disagreements.append(
                    "\((file as NSString).lastPathComponent) [\(mutation)]: \(why); \(reasons.joined(separator: "; "))"
                )
            }
            if !named { disagree("the script's verdict does not name the rules it did not check") }
            for (who, verdict) in [("ledger verify", swift), ("the script", script), ("the peer", peer)] {
                if case .none = verdict { disagree("\(who) gave no verdict") }
            }
            switch swift {
            case .none:
                continue
            case .accepted:
                if script == .accepted && peer == .accepted {
                    acceptedByAll += 1
                } else {
                    disagree("ledger verify accepted, a Python verifier did not")
                }
            case .refused(let code):
                if let code, Self.skippedCodes.contains(code) {
                    // A rule the Python verifiers need not check: either verdict is fine, the script said so.
                    if script == .accepted { skipped.scriptAccepted += 1 } else { skipped.scriptRefused += 1 }
                    if peer == .accepted { skipped.peerAccepted += 1 }
                } else if script != .accepted && peer != .accepted {
                    refusedByAll += 1
                } else {
                    disagree("ledger verify refused for a rule the Python verifiers share, one of them accepted")
                }
            }
        }
        print(
            "differential corpus: \(variants.count) variants: \(refusedByAll) refused by all, \(acceptedByAll) "
                + "accepted by all, \(skipped.scriptRefused + skipped.scriptAccepted) refused by ledger verify for "
                + "a schema, governance or model rule (the script refused \(skipped.scriptRefused) and accepted "
                + "\(skipped.scriptAccepted) naming the rules it skipped; the peer accepted \(skipped.peerAccepted)), "
                + "\(disagreements.count) disagreements"
        )
        #expect(disagreements.isEmpty, "\(disagreements.prefix(20).joined(separator: "\n"))")
        // The corpus must exercise both sides of every verdict, or the agreement above says little.
        #expect(refusedByAll >= 200 && acceptedByAll >= 50 && skipped.scriptAccepted >= 10)
        #expect(variants.filter { $0["checkpoint"]?.stringValue != nil }.count >= 90)
    }
}
