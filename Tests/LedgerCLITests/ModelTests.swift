import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

@Suite("Models: standalone train and score, the pipeline steps, the policy, and reproduce")
struct ModelTests {
    /// A numeric CSV: `a,b,label` with a dense cluster and a few far-away anomalies.
    static func labelledCSV(rows: Int = 300) -> String {
        var text = "a,b,label\n"
        for row in 0..<rows {
            let anomalous = row % 25 == 0
            let x = anomalous ? 8 + Double(row % 7) : Double(row % 17) / 17
            let y = anomalous ? -9 - Double(row % 5) : Double((row * 7) % 13) / 13
            text += "\(x),\(y),\(anomalous ? 1 : 0)\n"
        }
        return text
    }

    @Test("model train and model score: byte-identical models for 1 and 2 threads, metrics, and a label never used")
    func standalone() async throws {
        let folder = try TemporaryFolder()
        let data = try folder.write(Self.labelledCSV(), to: "data.csv")
        let one = folder.path("one.model")
        let two = folder.path("two.model")
        let trained = await ledger(
            "model",
            "train",
            "--data",
            data,
            "--label",
            "label",
            "--seed",
            "7",
            "--threads",
            "1",
            "--out",
            one,
            "--json"
        )
        try #require(trained.status == 0, "\(trained.err)")
        #expect(trained.json?["rows"] == 300)
        #expect(trained.json?["features"] == 2, "the label column is not a feature")
        let second = await ledger(
            "model",
            "train",
            "--data",
            data,
            "--label",
            "label",
            "--seed",
            "7",
            "--threads",
            "2",
            "--out",
            two
        )
        #expect(second.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: one)) == Data(contentsOf: URL(fileURLWithPath: two)))

        let scored = await ledger("model", "score", "--model", one, "--data", data, "--label", "label", "--json")
        try #require(scored.status == 0, "\(scored.err)")
        #expect(scored.json?["rows"] == 300)
        #expect(try #require(scored.json?["aucRoc"]?.doubleValue) > 0.95)
        #expect(scored.json?["averagePrecision"]?.doubleValue != nil)

        // Without the label column, the same model scores the same rows; columns may come in any order.
        let unlabelled = Self.labelledCSV().split(separator: "\n").map { line in
            let cells = line.split(separator: ",")
            return "\(cells[1]),\(cells[0])"
        }
        let reordered = try folder.write(unlabelled.joined(separator: "\n") + "\n", to: "reordered.csv")
        let scores = folder.path("scores.csv")
        #expect(await ledger("model", "score", "--model", one, "--data", reordered, "--out", scores).status == 0)
        let labelled = folder.path("labelled.csv")
        #expect(
            await ledger("model", "score", "--model", one, "--data", data, "--label", "label", "--out", labelled)
                .status == 0
        )
        let plain = try String(contentsOfFile: scores, encoding: .utf8).split(separator: "\n").dropFirst()
        let withLabels = try String(contentsOfFile: labelled, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(plain.count == 300)
        #expect(Array(plain) == withLabels.map { $0.split(separator: ",")[0] })
    }

    @Test("model train and score refuse bad input with a clear error and write nothing")
    func standaloneBadInput() async throws {
        let folder = try TemporaryFolder()
        let bad = try folder.write("a,b\n1,2\n3,x\n", to: "bad.csv")
        let out = folder.path("m.model")
        let result = await ledger("model", "train", "--data", bad, "--out", out)
        #expect(result.status == 1)
        #expect(result.err.contains("line 3"), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(await ledger("model", "train", "--data", bad).status == 2, "--out is required")
        #expect(await ledger("model", "train", "--data", bad, "--out", out, "--trees", "0").status == 2)

        let data = try folder.write(Self.labelledCSV(), to: "data.csv")
        #expect(await ledger("model", "train", "--data", data, "--label", "label", "--out", out).status == 0)
        let noise = try folder.write("not a model", to: "noise.model")
        let notModel = await ledger("model", "score", "--model", noise, "--data", data, "--label", "label")
        #expect(notModel.status == 1)
        let other = try folder.write("a,c\n1,2\n", to: "other.csv")
        let wrongColumns = await ledger("model", "score", "--model", out, "--data", other)
        #expect(wrongColumns.status == 1)
        #expect(wrongColumns.err.contains("no column \"b\""), "\(wrongColumns.err)")
        let missingLabel = await ledger("model", "score", "--model", out, "--data", data, "--label", "nope")
        #expect(missingLabel.status == 1)
    }

    /// A workspace with a demo Audit DB, one extract and one dataset; returns the dataset digest.
    static func workspaceWithDataset() async throws -> (TestWorkspace, audit: String, dataset: String) {
        let workspace = try await TestWorkspace.make()
        let (audit, extract) = try await workspace.extractDemo()
        let seq = try #require(extract["seq"]?.integerValue)
        let built = await workspace.run("dataset", "build", "--extract", String(seq), "--json")
        try #require(built.status == 0, "\(built.err)")
        return (workspace, audit, try #require(built.json?["datasetDigest"]?.stringValue))
    }

    @Test(
        "train → evaluate → reproduce on the demo data: identical; then each kind of tampering is named, exit 3",
        .embeddedFilesOnly("flips a bit of the dataset in the artifact folder")
    )
    func reproduce() async throws {
        let (workspace, audit, dataset) = try await Self.workspaceWithDataset()
        let trained = await workspace.run("train", "--dataset", dataset, "--json")
        try #require(trained.status == 0, "\(trained.err)")
        #expect(trained.json?["datasetDigest"]?.stringValue == dataset)
        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        let evaluated = await workspace.run("evaluate", "--model", model, "--json")
        try #require(evaluated.status == 0, "\(evaluated.err)")
        #expect(evaluated.json?["verdict"] == "pass", "\(evaluated.out)")
        #expect(evaluated.json?["registered"] == "access-anomaly@1")
        #expect(evaluated.json?["reasons"]?.arrayValue?.isEmpty == false)
        let again = await workspace.run("evaluate", "--model", model, "--champion", "access-anomaly@1", "--json")
        #expect(again.status == 0, "a registered model can be evaluated again: \(again.err)")
        #expect(again.json?["verdict"] == "pass", "equal to its champion: an improvement of 0 meets the default")
        #expect(again.json?["registered"] == .null, "but it is not registered twice")

        let same = await workspace.run("reproduce", "access-anomaly@1", "--source", "sqlite:\(audit)", "--json")
        #expect(same.status == 0, "\(same.out) \(same.err)")
        #expect(same.json?["identical"] == true)
        let steps = same.json?["checks"]?.arrayValue?.compactMap { $0["outcome"]?.stringValue }
        // Four artifacts (snapshot, dataset, manifest, model), then audit rows, dataset, trainer, model, metrics.
        #expect(steps == Array(repeating: "identical", count: 9), "\(same.out)")
        let text = await workspace.run("reproduce", "access-anomaly@1")
        #expect(text.status == 0)
        #expect(text.out.hasSuffix("identical\n"))
        #expect(text.out.contains("skipped    audit rows"), "without --source the Audit DB is not checked")
        #expect(await workspace.run("reproduce", "access-anomaly@2").status == 1)
        try await IndependentPeerTests.expectPeerAccepts(workspace)
        #expect(await workspace.run("reproduce", "access-anomaly").status == 2)

        // An audit row edited after the extraction.
        let database = try DatabaseQueue(path: audit)
        try await database.write { db in
            try db.execute(
                sql: """
                    UPDATE audit_events SET action = 'delete' WHERE id = (
                        SELECT min(id) FROM audit_events WHERE occurred_at >= '2026-01-20')
                    """
            )
        }
        try database.close()
        let edited = await workspace.run("reproduce", "access-anomaly@1", "--source", "sqlite:\(audit)")
        #expect(edited.status == 3)
        #expect(edited.out.contains("differs    audit rows: the Audit DB's rows"), "\(edited.out)")

        // The stored dataset artifact changed on disk.
        let hex = String(dataset.dropFirst("sha256:".count))
        let path = "\(workspace.root)/artifacts/sha256/\(hex.prefix(2))/\(hex)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let damaged = await workspace.run("reproduce", "access-anomaly@1", "--json")
        #expect(damaged.status == 3)
        let failed = damaged.json?["checks"]?.arrayValue?.filter { $0["outcome"] == "differs" }
        #expect(failed?.compactMap { $0["step"]?.stringValue } == ["dataset artifact"], "\(damaged.out)")
        #expect(await workspace.run("verify").status == 0, "the log itself is intact")
    }

    @Test("an external trainer under the JSON contract: train, evaluate, and reproduce notices a changed script")
    func externalTrainer() async throws {
        let (workspace, _, dataset) = try await Self.workspaceWithDataset()
        let script = workspace.folder.path("ws/zscore_trainer.py")
        try FileManager.default.copyItem(
            atPath: ExternalTools.repositoryRoot.appendingPathComponent("Tests/Peers/zscore_trainer.py").path,
            toPath: script
        )
        let configPath = "\(workspace.root)/ledger.json"
        var config = try #require(
            try CanonicalJSON.parse(Data(contentsOf: URL(fileURLWithPath: configPath))).objectValue
        )
        config["model"] = [
            "name": "zscore", "trainer": "command", "command": ["python3", "zscore_trainer.py"], "parameters": [:],
            "environment": ["PYTHONHASHSEED": "0"],
        ]
        try Data(try CanonicalJSON.encode(.object(config))).write(to: URL(fileURLWithPath: configPath))

        let trained = await workspace.run("train", "--dataset", dataset, "--json")
        try #require(trained.status == 0, "\(trained.err)")
        let log = await workspace.run("log", "--type", "model.trained", "--json")
        let event = try #require(log.json?.arrayValue?.last)
        #expect(event["data"]?["algorithm"] == "command")
        #expect(event["data"]?["trainer"]?["version"] == "modelledger.trainer/v1")
        #expect(event["data"]?["trainer"]?["command"] == ["python3", "zscore_trainer.py"])
        let files = event["data"]?["trainer"]?["files"]?.arrayValue ?? []
        #expect(files.count == 2, "the interpreter and the script are both digested")
        #expect(event["data"]?["trainer"]?["environment"]?["PYTHONHASHSEED"] == "0")

        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        let evaluated = await workspace.run("evaluate", "--model", model, "--json")
        try #require(evaluated.status == 0, "\(evaluated.err)")
        let verdict = try #require(evaluated.json?["verdict"]?.stringValue)
        guard verdict == "pass" else {
            Issue.record("the z-score trainer failed the default gate: \(evaluated.out)")
            return
        }
        let same = await workspace.run("reproduce", "zscore@1")
        #expect(same.status == 0, "\(same.out) \(same.err)")

        try "# changed\n".appendingToFile(script)
        let changed = await workspace.run("reproduce", "zscore@1")
        #expect(changed.status == 3)
        #expect(
            changed.out.contains("the trainer file \(script)") || changed.out.contains("zscore_trainer.py changed"),
            "\(changed.out)"
        )

        // A trainer that fails: a clear error with its stderr, and nothing appended.
        try "import sys\nsys.exit('boom: no model today')\n".write(toFile: script, atomically: true, encoding: .utf8)
        let before = try await workspace.size()
        let failed = await workspace.run("train", "--dataset", dataset)
        #expect(failed.status == 1)
        #expect(failed.err.contains("boom: no model today"), "\(failed.err)")
        #expect(try await workspace.size() == before)
    }

    @Test("policy set records a policy; a bad file is refused and appends nothing")
    func policy() async throws {
        let workspace = try await TestWorkspace.make()
        let shown = await workspace.run("policy", "show", "--json")
        #expect(shown.json?["policy"]?["gate"]?["minAucRoc"] == 0.6, "init installs the default gate")
        let file = try workspace.folder.write(#"{"requiredApprovals":2,"gate":{"minAucRoc":0.8}}"#, to: "policy.json")
        let set = await workspace.run("policy", "set", file, "--json")
        try #require(set.status == 0, "\(set.err)")
        #expect(set.json?["policy"]?["requiredApprovals"] == 2)
        #expect(set.json?["policy"]?["gate"]?["minAucRoc"] == 0.8)
        #expect(set.json?["policy"]?["gate"]?["firstModelMinAucRoc"] == 0.7, "absent members take their defaults")
        #expect(await workspace.run("policy", "show", "--json").json?["sha256"] == set.json?["sha256"])

        let before = try await workspace.size()
        for bad in [#"{"requiredApprovals":0}"#, #"{"requiredApprovals":1,"gate":{"minAucRoc":2}}"#, "not json"] {
            let path = try workspace.folder.write(bad, to: "bad.json")
            let refused = await workspace.run("policy", "set", path)
            #expect(refused.status == 1, "\(bad)")
            #expect(!refused.err.isEmpty)
        }
        let pipelineKey = "\(workspace.root)/keys/pipeline.key"
        #expect(await workspace.run("policy", "set", file, "--key", pipelineKey).status == 1, "only admin sets policy")
        #expect(try await workspace.size() == before)
    }
}

extension String {
    fileprivate func appendingToFile(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
