import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Tools we did not write agree with ours: python `cryptography`, `jsonschema` and `rfc8785`
/// (Tests/Peers/ledger_peer.py), and `openssl`.
@Suite("Independent peers")
struct IndependentPeerTests {
    static let peerScript = ExternalTools.repositoryRoot.appendingPathComponent("Tests/Peers/ledger_peer.py").path
    static let schemas = ExternalTools.repositoryRoot.appendingPathComponent("schemas").path

    /// A workspace with every core event type, exported, with a checkpoint.
    static func exportedLog() async throws -> (TestWorkspace, export: String, checkpoint: String) {
        let workspace = try await TestWorkspace.make()
        let bobFile = workspace.folder.path("bob.key")
        let digest = Hash256.sha256([1, 2, 3]).hex
        let steps: [[String]] = [
            ["keys", "generate", "--name", "bob", "--role", "approver", "--role", "pipeline", "--out", bobFile],
            [
                "keys", "add", "--public", bobFile + ".pub", "--name", "bob", "--role", "approver", "--role",
                "pipeline",
                "--key", workspace.adminKey, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "note.added", "--data", #"{"text":"Grüße 👋 \"quoted\" \u0001","refs":[0,1]}"#,
                "--key",
                bobFile, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "policy.set", "--data",
                #"{"policy":{"requiredApprovals":2,"gate":{"minAucRoc":0.8}}}"#,
                "--key", workspace.adminKey, "--workspace", workspace.root,
            ],
            [
                "append", "--type", "note.added", "--data", #"{"text":"subject"}"#, "--subject",
                "model=sha256:\(digest)",
                "--key", bobFile, "--workspace", workspace.root,
            ],
        ]
        for step in steps {
            let result = await ledger(step)
            try #require(result.status == 0, "`ledger \(step.joined(separator: " "))` failed: \(result.err)")
        }
        let keyID = try #require(
            await workspace.run("keys", "list", "--json").json?.arrayValue?.last?["keyid"]?.stringValue
        )
        let revoked = await workspace.run("keys", "revoke", keyID, "--reason", "rotation", "--key", workspace.adminKey)
        try #require(revoked.status == 0, "\(revoked.err)")
        let export = workspace.folder.path("log.jsonl")
        let checkpoint = workspace.folder.path("cp.txt")
        try #require(await workspace.run("export", "--out", export).status == 0)
        try #require(await workspace.run("checkpoint", "--out", checkpoint).status == 0)
        let verified = await ledger("verify", "--from", export, "--trust", workspace.genesis, "--json")
        // Every core event type is in the log the peers are shown.
        try #require(
            verified.json?["types"]
                == ["ledger.created": 1, "key.added": 1, "note.added": 2, "policy.set": 1, "key.revoked": 1]
        )
        return (workspace, export, checkpoint)
    }

    @Test(
        "python cryptography verifies every envelope, the chain, the root and the checkpoint",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required)
    )
    func pythonVerifiesLog() async throws {
        let python = try #require(
            ExternalTools.python,
            "python with cryptography/jsonschema/rfc8785 (set LEDGER_PYTHON)"
        )
        let (workspace, export, checkpoint) = try await Self.exportedLog()
        let result = try runProcess(
            python,
            [Self.peerScript, "verify-log", export, "--trust", workspace.genesis, "--checkpoint", checkpoint]
        )
        #expect(result.status == 0, "\(result.out) \(result.err)")
        let peer = try CanonicalJSON.parse(Array(result.out.utf8))
        let ours = await ledger("verify", "--from", export, "--trust", workspace.genesis, "--json")
        #expect(peer["root"] == ours.json?["root"], "the RFC 9162 root recomputed in Python equals ours")
        #expect(peer["entries"] == ours.json?["entries"])

        // And the peer rejects a tampered export too (so the agreement above is not vacuous).
        var lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.swapAt(3, 4)
        let tampered = try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: "tampered.jsonl")
        #expect(try runProcess(python, [Self.peerScript, "verify-log", tampered]).status == 1)
    }

    @Test(
        "every event the suite writes validates against schemas/ with python jsonschema",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required)
    )
    func schemasValidate() async throws {
        let python = try #require(ExternalTools.python, "python with jsonschema (set LEDGER_PYTHON)")
        let (workspace, export, _) = try await Self.exportedLog()
        let result = try runProcess(python, [Self.peerScript, "validate-schemas", export, "--schemas", Self.schemas])
        #expect(result.status == 0, "\(result.out) \(result.err)")
        withExtendedLifetime(workspace) {}
    }

    /// Exports the workspace's log and expects the Python peer to validate every event against `schemas/` and to
    /// verify the log. Without the peer's Python it checks only that this is not CI, where the peers are required.
    static func expectPeerAccepts(_ workspace: TestWorkspace) async throws {
        guard let python = ExternalTools.python else {
            #expect(!ExternalTools.required, "CI must run the Python peers")
            return
        }
        let export = workspace.folder.path("peer-export.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        let schemas = try runProcess(python, [peerScript, "validate-schemas", export, "--schemas", Self.schemas])
        #expect(schemas.status == 0, "every event validates against schemas/: \(schemas.out) \(schemas.err)")
        let verified = try runProcess(python, [peerScript, "verify-log", export])
        #expect(verified.status == 0, "the Python peer verifies the log: \(verified.out) \(verified.err)")
    }

    /// Data our validator refuses must be refused by jsonschema too, and the reverse for data we accept.
    static let dataCases: [(type: String, data: String, valid: Bool)] = [
        ("note.added", #"{"text":"ok"}"#, true),
        ("note.added", #"{"text":"ok","refs":[0,3]}"#, true),
        ("note.added", #"{"text":""}"#, false),
        ("note.added", #"{"text":"x","refs":[]}"#, false),
        ("note.added", #"{"text":"x","refs":[1,1]}"#, false),
        ("note.added", #"{"text":"x","refs":[-1]}"#, false),
        ("note.added", #"{"text":"x","extra":1}"#, false),
        ("note.added", #"{"text":5}"#, false),
        ("key.revoked", #"{"keyid":"00","reason":"r"}"#, false),
        (
            "key.revoked",
            #"{"keyid":"0000000000000000000000000000000000000000000000000000000000000000","reason":"r"}"#, true
        ),
        (
            "key.added",
            #"{"keyid":"0000000000000000000000000000000000000000000000000000000000000000","name":"n","publicKey":"0000000000000000000000000000000000000000000000000000000000000000","roles":["wizard"]}"#,
            false
        ),
        (
            "key.added",
            #"{"keyid":"0000000000000000000000000000000000000000000000000000000000000000","name":"n","publicKey":"0000000000000000000000000000000000000000000000000000000000000000","roles":[]}"#,
            false
        ),
        (
            "key.added",
            #"{"keyid":"0000000000000000000000000000000000000000000000000000000000000000","name":"n","publicKey":"0000000000000000000000000000000000000000000000000000000000000000","roles":["admin","log"]}"#,
            true
        ),
        ("policy.set", #"{"policy":{"requiredApprovals":0}}"#, false),
        ("policy.set", #"{"policy":{"requiredApprovals":2,"gate":{"minAucRoc":0.8}}}"#, true),
        ("policy.set", #"{"policy":{"requiredApprovals":1.5}}"#, false),
        ("ledger.created", #"{"keys":[],"policy":{"requiredApprovals":1}}"#, false),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"ledger-iforest/1"},"parameters":{"trees":100},"seed":1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":["a","b"],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3}"#,
            true
        ),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"ledger-iforest/1"},"parameters":{"trees":100},"seed":-1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":["a","b"],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3}"#,
            false
        ),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"ledger-iforest/1"},"parameters":{"trees":100},"seed":1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":[],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3}"#,
            false
        ),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"x","command":["python3"],"files":[{"path":"/t.py","sha256":"0000000000000000000000000000000000000000000000000000000000000000"}],"environment":{"A":"1"}},"parameters":{"trees":100},"seed":1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":["a","b"],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3}"#,
            true
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"pass","reasons":["AUC-ROC 0.9000 >= 0.6000"]}"#,
            true
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"maybe","reasons":["AUC-ROC 0.9000 >= 0.6000"]}"#,
            false
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":1.5,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"pass","reasons":["AUC-ROC 0.9000 >= 0.6000"]}"#,
            false
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"pass","reasons":[]}"#,
            false
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"pass","reasons":["AUC-ROC 0.9000 >= 0.6000"],"champion":{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","metrics":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1}},"difference":{"aucRoc":0.01,"lower":-0.02,"upper":0.03,"confidence":0.95,"replicates":1000,"seed":7}}"#,
            true
        ),
        (
            "model.evaluated",
            #"{"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"holdout":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"rows":100,"anomalous":5},"alertBudget":{"fraction":0.05,"k":5},"candidate":{"aucRoc":0.9,"averagePrecision":0.5,"precisionAtK":0.4,"recallAtBudget":1},"policy":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"verdict":"pass","reasons":["AUC-ROC 0.9000 >= 0.6000"],"difference":{"aucRoc":0.01,"lower":-0.02,"upper":0.03,"confidence":0.95,"replicates":10,"seed":7}}"#,
            false
        ),
        (
            "model.registered",
            #"{"name":"toy","version":1,"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"evaluation":{"seq":6}}"#,
            true
        ),
        (
            "model.registered",
            #"{"name":"toy","version":0,"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"evaluation":{"seq":6}}"#,
            false
        ),
        (
            "model.registered",
            #"{"name":"toy","version":1,"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"evaluation":{"seq":6},"run":"weekly/2026-01-05"}"#,
            true
        ),
        (
            "model.registered",
            #"{"name":"toy","version":1,"model":{"seq":5,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"evaluation":{"seq":6},"extra":true}"#,
            false
        ),
        (
            "policy.set",
            #"{"policy":{"requiredApprovals":1,"gate":{"minAucRoc":0.8,"minImprovement":-0.01,"minLowerBound":-0.05,"firstModelMinAucRoc":0.75}}}"#,
            true
        ),
        ("policy.set", #"{"policy":{"requiredApprovals":1,"gate":{"minAucRoc":1.2}}}"#, false),
        ("policy.set", #"{"policy":{"requiredApprovals":1,"gate":{"maxAucRoc":0.5}}}"#, false),
        (
            "model.approved",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","reason":"AUC-ROC 0.91 on the holdout"}"#,
            true
        ),
        (
            "model.approved",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            false
        ),
        (
            "model.approved",
            #"{"name":"toy","version":1,"sha256":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","reason":"ok"}"#,
            false
        ),
        (
            "model.rejected",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","reason":"too many false alarms"}"#,
            true
        ),
        (
            "model.rejected",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","reason":"no","target":"production"}"#,
            false
        ),
        (
            "model.rejected",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","reason":""}"#,
            false
        ),
        (
            "model.deployed",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","target":"production"}"#,
            true
        ),
        (
            "model.deployed",
            #"{"name":"toy","version":0,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","target":"production"}"#,
            false
        ),
        (
            "model.deployed",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            false
        ),
        (
            "model.rolledBack",
            #"{"name":"toy","target":"production","from":{"version":2,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"to":{"version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"reason":"regression in precision"}"#,
            true
        ),
        (
            "model.rolledBack",
            #"{"name":"toy","target":"production","from":{"version":2,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"to":{"version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}"#,
            true
        ),
        (
            "model.rolledBack",
            #"{"name":"toy","target":"production","from":{"version":2,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"to":{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}"#,
            false
        ),
        (
            "model.rolledBack",
            #"{"name":"toy","target":"production","to":{"version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}"#,
            false
        ),
        (
            "model.retired",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            true
        ),
        (
            "model.retired",
            #"{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000","target":"production"}"#,
            false
        ),
        (
            "run.started",
            #"{"run":"weekly/2026-01-05","trigger":"schedule","window":{"from":"2026-01-05T00:00:00.000Z","to":"2026-03-30T00:00:00.000Z"},"config":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"code":{"version":"1.4.0"}}"#,
            true
        ),
        (
            "run.started",
            #"{"run":"weekly/2026-01-05","trigger":"cron","window":{"from":"2026-01-05T00:00:00.000Z","to":"2026-03-30T00:00:00.000Z"},"config":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"code":{"version":"1.4.0"}}"#,
            false
        ),
        (
            "run.started",
            #"{"run":"weekly/2026-01-05","trigger":"schedule","window":{"from":"2026-01-05","to":"2026-03-30T00:00:00.000Z"},"config":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"code":{"version":"1.4.0"}}"#,
            false
        ),
        (
            "run.started",
            #"{"run":"weekly/2026-01-05","trigger":"schedule","window":{"from":"2026-01-05T00:00:00.000Z","to":"2026-03-30T00:00:00.000Z"},"config":{"sha256":"000000000000000000000000000000000000000000000000000000000000000"},"code":{"version":"1.4.0"}}"#,
            false
        ),
        (
            "step.failed",
            #"{"run":"weekly/2026-01-05","step":"extract","attempt":1,"error":{"class":"transient","code":"db.timeout","message":"the Audit DB did not answer in 30 s"},"retryInMs":2000}"#,
            true
        ),
        (
            "step.failed",
            #"{"run":"weekly/2026-01-05","step":"extract","attempt":1001,"error":{"class":"transient","code":"db.timeout","message":"the Audit DB did not answer in 30 s"},"retryInMs":2000}"#,
            false
        ),
        (
            "step.failed",
            #"{"run":"weekly/2026-01-05","step":"deploy","attempt":1,"error":{"class":"transient","code":"db.timeout","message":"the Audit DB did not answer in 30 s"},"retryInMs":2000}"#,
            false
        ),
        (
            "step.failed",
            #"{"run":"weekly/2026-01-05","step":"extract","attempt":1,"error":{"class":"fatal","code":"db.timeout","message":"the Audit DB did not answer in 30 s"},"retryInMs":2000}"#,
            false
        ),
        (
            "step.failed",
            #"{"run":"weekly/2026-01-05","step":"extract","attempt":1,"error":{"class":"transient","code":"db.timeout","message":"the Audit DB did not answer in 30 s"},"retryInMs":-1}"#,
            false
        ),
        ("run.completed", #"{"run":"weekly/2026-01-05"}"#, true),
        ("run.completed", #"{"run":""}"#, false),
        ("run.completed", #"{"run":"weekly/2026-01-05","step":"register"}"#, false),
        (
            "run.failed",
            #"{"run":"weekly/2026-01-05","step":"train","error":{"class":"permanent","code":"db.timeout","message":"the Audit DB did not answer in 30 s"}}"#,
            true
        ),
        ("run.failed", #"{"run":"weekly/2026-01-05","step":"train"}"#, false),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.05,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5},{"name":"distinctIps","psi":0.3,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant"}"#,
            true
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.05,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5},{"name":"distinctIps","psi":0.3,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant","run":"weekly/2026-01-05","scores":{"model":{"name":"toy","version":1,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"psi":1234.5,"ks":{"statistic":0.2,"pValue":0},"wasserstein":0}}"#,
            true
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":-0.1,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant"}"#,
            false
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.3,"ks":{"statistic":0.2,"pValue":1.5},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant"}"#,
            false
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant"}"#,
            false
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.05,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5},{"name":"distinctIps","psi":0.3,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"severe"}"#,
            false
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.05,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5},{"name":"distinctIps","psi":0.3,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":101},"verdict":"significant"}"#,
            false
        ),
        (
            "drift.measured",
            #"{"reference":{"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"current":{"dataset":{"seq":9,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}},"features":[{"name":"events","psi":0.05,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5},{"name":"distinctIps","psi":0.3,"ks":{"statistic":0.12,"pValue":0.003},"wasserstein":1.5}],"thresholds":{"moderate":0.1,"significant":0.25},"verdict":"significant","scores":{"model":{"name":"toy","version":1,"sha256":"xyz"},"psi":0.01,"ks":{"statistic":0.2,"pValue":0.5},"wasserstein":0}}"#,
            false
        ),
        (
            "data.extracted",
            #"{"source":{"kind":"sqlite"},"queryDigest":"0000000000000000000000000000000000000000000000000000000000000000","window":{"from":"2026-01-05T00:00:00.000Z","to":"2026-03-30T00:00:00.000Z"},"rows":1000,"snapshot":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"policy":"refuse","quarantined":{},"run":"weekly/2026-01-05"}"#,
            true
        ),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"ledger-iforest/1"},"parameters":{"trees":100},"seed":1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":["a","b"],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3,"run":"weekly/2026-01-05"}"#,
            true
        ),
        (
            "model.trained",
            #"{"algorithm":"isolation-forest","trainer":{"version":"ledger-iforest/1"},"parameters":{"trees":100},"seed":1,"dataset":{"seq":4,"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"features":["a","b"],"rows":10,"artifact":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"durationMs":3,"run":""}"#,
            false
        ),
    ]

    @Test(
        "our validator and python jsonschema agree on accepted and refused data",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required),
        arguments: dataCases.indices
    )
    func validatorsAgree(index: Int) throws {
        let python = try #require(ExternalTools.python, "python with jsonschema (set LEDGER_PYTHON)")
        let testCase = Self.dataCases[index]
        let data = try CanonicalJSON.parse(testCase.data)
        let ours = (try? EventCatalog.kind(of: testCase.type).shape.validate(data)) != nil
        #expect(ours == testCase.valid, "our validator on \(testCase.data)")
        let folder = try TemporaryFolder()
        let path = try folder.write(testCase.data, to: "data.json")
        let result = try runProcess(
            python,
            [Self.peerScript, "validate-data", testCase.type, path, "--schemas", Self.schemas]
        )
        #expect(result.status == (testCase.valid ? 0 : 1), "jsonschema on \(testCase.data): \(result.out)")
    }

    @Test(
        "openssl reads the key files and verifies an exported envelope's signature over the PAE",
        .enabled(if: ExternalTools.openssl != nil || ExternalTools.required)
    )
    func opensslVerifiesEnvelope() async throws {
        let openssl = try #require(ExternalTools.openssl, "openssl")
        let (workspace, export, _) = try await Self.exportedLog()
        let read = try runProcess(openssl, ["pkey", "-in", workspace.adminKey, "-pubout"])
        #expect(read.status == 0, "\(read.err)")
        let ourPublic = try String(contentsOfFile: workspace.adminKey + ".pub", encoding: .utf8)
        #expect(read.out == ourPublic, "openssl derives the same SPKI PEM from our PKCS#8 file")

        let line = try #require(try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").first)
        let envelope = try Envelope(jsonBytes: Array(line.utf8))
        let folder = try TemporaryFolder()
        let paePath = folder.path("pae.bin")
        let sigPath = folder.path("sig.bin")
        try Data(envelope.preAuthenticationEncoding).write(to: URL(fileURLWithPath: paePath))
        try Data(envelope.signatures[0].signature).write(to: URL(fileURLWithPath: sigPath))
        let verify = try runProcess(
            openssl,
            [
                "pkeyutl", "-verify", "-pubin", "-inkey", workspace.adminKey + ".pub", "-rawin", "-in", paePath,
                "-sigfile", sigPath,
            ]
        )
        #expect(verify.status == 0, "\(verify.out) \(verify.err)")
        var flipped = envelope.preAuthenticationEncoding
        flipped[flipped.count - 2] ^= 1
        try Data(flipped).write(to: URL(fileURLWithPath: paePath))
        let rejected = try runProcess(
            openssl,
            [
                "pkeyutl", "-verify", "-pubin", "-inkey", workspace.adminKey + ".pub", "-rawin", "-in", paePath,
                "-sigfile", sigPath,
            ]
        )
        #expect(rejected.status != 0)
    }

    @Test(
        "python verifies a single exported envelope as plain DSSE",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required)
    )
    func pythonDSSE() async throws {
        let python = try #require(ExternalTools.python, "python with cryptography (set LEDGER_PYTHON)")
        let (workspace, export, _) = try await Self.exportedLog()
        let line = try #require(try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").first)
        let path = try workspace.folder.write(String(line), to: "envelope.json")
        let result = try runProcess(
            python,
            [Self.peerScript, "dsse-verify", path, "--public-key", workspace.adminKey + ".pub"]
        )
        #expect(result.status == 0, "\(result.out) \(result.err)")
        let wrongKey = try runProcess(
            python,
            [Self.peerScript, "dsse-verify", path, "--public-key", workspace.logKey + ".pub"]
        )
        #expect(wrongKey.status == 1)
    }
}
