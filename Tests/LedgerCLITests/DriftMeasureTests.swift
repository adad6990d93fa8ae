import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger drift measure`: the new window's dataset against the deployed model's training data.
@Suite("Drift measurement")
struct DriftMeasureTests {
    /// Extracts `from..<to` of the workspace's demo Audit DB and builds its dataset; returns the dataset digest.
    static func dataset(_ workspace: TestWorkspace, audit: String, from: String, to: String) async throws -> String {
        let extract = await workspace.run(
            "extract",
            "--source",
            "sqlite:\(audit)",
            "--from",
            from,
            "--to",
            to,
            "--json"
        )
        try #require(extract.status == 0, "\(extract.err)")
        let seq = try #require(extract.json?["seq"]?.integerValue)
        let built = await workspace.run("dataset", "build", "--extract", String(seq), "--json")
        try #require(built.status == 0, "\(built.err)")
        return try #require(built.json?["datasetDigest"]?.stringValue)
    }

    @Test("a later window against the deployed model's training data: recorded, consistent, in the history")
    func measure() async throws {
        let workspace = try await TestWorkspace.make()
        let audit = workspace.folder.path("audit.db")
        let demo = await ledger("demo", "audit-db", "--out", audit, "--weeks", "6", "--actors", "40")
        try #require(demo.status == 0, "\(demo.err)")
        let first = try await Self.dataset(workspace, audit: audit, from: "2026-01-05", to: "2026-01-26")
        let second = try await Self.dataset(workspace, audit: audit, from: "2026-01-26", to: "2026-02-16")

        let refused = await workspace.run("drift", "measure", "--dataset", second)
        #expect(refused.status == 1)
        #expect(refused.err.contains("nothing serves production"), "\(refused.err)")

        let trained = await workspace.run("train", "--dataset", first, "--json")
        try #require(trained.status == 0, "\(trained.err)")
        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        try #require(await workspace.run("evaluate", "--model", model).status == 0)
        try #require(await workspace.run("approve", "access-anomaly@1", "--reason", "ok").status == 0)
        try #require(await workspace.run("deploy", "access-anomaly@1").status == 0)

        let same = try #require(await workspace.run("drift", "measure", "--dataset", first, "--json").json)
        #expect(same["verdict"] == "stable", "its own training data does not drift: \(same)")
        #expect(same["features"]?.arrayValue?.allSatisfy { $0["psi"] == 0 && $0["ks"] == 0 } == true)

        let measured = await workspace.run("drift", "measure", "--dataset", second, "--moderate", "0.05", "--json")
        try #require(measured.status == 0, "\(measured.err)")
        let result = try #require(measured.json)
        let features = try #require(result["features"]?.arrayValue)
        #expect(features.count >= 5)
        #expect(features.contains { ($0["ks"]?.doubleValue ?? 0) > 0 }, "another window differs: \(result)")
        // The verdict follows from the PSIs, as the rules recompute it.
        let psis = features.compactMap { $0["psi"]?.doubleValue } + [result["scores"]?["psi"]?.doubleValue ?? 0]
        let worst = psis.max() ?? 0
        let expected = worst >= 0.25 ? "significant" : worst >= 0.05 ? "moderate" : "stable"
        #expect(result["verdict"]?.stringValue == expected)

        let history = try #require(await workspace.run("drift", "--json").json?.arrayValue)
        #expect(history.count == 2)
        #expect(history.last?["verdict"] == result["verdict"])
        #expect(history.last?["scores"]?["model"] == "access-anomaly@1")
        let one = try #require(await workspace.run("drift", "--feature", "event_count", "--json").json?.arrayValue)
        #expect(one.allSatisfy { $0["features"]?.arrayValue?.count == 1 })
        #expect(
            await workspace.run("drift", "measure", "--dataset", second, "--moderate", "0.5", "--significant", "0.2")
                .status == 2
        )
        // Thresholds from ledger.json's model.drift when no flag gives them.
        let config = URL(fileURLWithPath: workspace.root).appendingPathComponent("ledger.json")
        var settings = try #require(try CanonicalJSON.parse(String(contentsOf: config, encoding: .utf8)).objectValue)
        var modelSettings = try #require(settings["model"]?.objectValue)
        modelSettings["drift"] = ["moderate": 0, "significant": 0]
        settings["model"] = .object(modelSettings)
        try Data(try CanonicalJSON.encode(.object(settings))).write(to: config)
        let strict = await workspace.run("drift", "measure", "--dataset", first, "--json")
        #expect(
            strict.json?["verdict"] == "significant",
            "a PSI of 0 reaches a threshold of 0: \(strict.out) \(strict.err)"
        )
        modelSettings["drift"] = ["moderate": 0.3, "significant": 0.2]
        settings["model"] = .object(modelSettings)
        try Data(try CanonicalJSON.encode(.object(settings))).write(to: config)
        let bad = await workspace.run("drift", "--last", "1")
        #expect(bad.status == 1)
        #expect(bad.err.contains("model.drift"), "\(bad.err)")
        modelSettings["drift"] = nil
        settings["model"] = .object(modelSettings)
        try Data(try CanonicalJSON.encode(.object(settings))).write(to: config)
        #expect(await workspace.run("verify").status == 0)
        try await IndependentPeerTests.expectPeerAccepts(workspace)
    }
}
