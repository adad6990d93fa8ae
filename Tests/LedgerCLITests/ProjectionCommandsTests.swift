import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The governance commands and the projection queries, driven as a user would.
@Suite("Governance and projection commands")
struct ProjectionCommandsTests {
    /// A workspace with `access-anomaly@1` registered, approved and deployed to production, and a policy whose gate
    /// lets any later model in; returns it with the Audit DB's path.
    static func deployedWorkspace() async throws -> (TestWorkspace, dataset: String) {
        let (workspace, _, dataset) = try await ModelTests.workspaceWithDataset()
        try await register(workspace, dataset: dataset, seed: nil)
        let policy = try workspace.folder.write(
            #"{"requiredApprovals":1,"gate":{"minImprovement":-1,"minLowerBound":-1}}"#,
            to: "lenient.json"
        )
        try #require(await workspace.run("policy", "set", policy).status == 0)
        let approved = await workspace.run("approve", "access-anomaly@1", "--reason", "metrics reviewed", "--json")
        try #require(approved.status == 0, "\(approved.err)")
        #expect(approved.json?["status"] == "approved")
        let deployed = await workspace.run("deploy", "access-anomaly@1", "--target", "production", "--json")
        try #require(deployed.status == 0, "\(deployed.err)")
        #expect(deployed.json?["status"] == "deployed")
        return (workspace, dataset)
    }

    /// Trains and evaluates a model; returns `evaluate --json`.
    @discardableResult
    static func register(_ workspace: TestWorkspace, dataset: String, seed: Int?) async throws -> JSONValue {
        let trained = await workspace.run("train", "--dataset", dataset, "--json", "--seed", String(seed ?? 1))
        try #require(trained.status == 0, "\(trained.err)")
        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        let evaluated = await workspace.run("evaluate", "--model", model)
        try #require(evaluated.status == 0, "\(evaluated.err)")
        return ["text": .string(evaluated.out)]
    }

    @Test("approve, deploy, roll back and retire; registry, deployments --at, lineage, events and verify agree")
    func governance() async throws {
        let (workspace, dataset) = try await Self.deployedWorkspace()
        // With a version deployed, evaluate compares with it by default.
        let second = try await Self.register(workspace, dataset: dataset, seed: 2)
        let text = try #require(second["text"]?.stringValue)
        #expect(text.contains("champion access-anomaly@1"), "\(text)")
        #expect(text.contains("model.registered: access-anomaly@2"), "\(text)")
        try #require(await workspace.run("approve", "access-anomaly@2", "--reason", "better").status == 0)
        try #require(await workspace.run("deploy", "access-anomaly@2").status == 0)
        let rolledBack = await workspace.run("rollback", "access-anomaly", "--reason", "alert volume doubled", "--json")
        try #require(rolledBack.status == 0, "\(rolledBack.err)")
        #expect(rolledBack.json?["version"] == "access-anomaly@1", "the default is the version that served before")

        let history = try #require(await workspace.run("deployments", "--json").json?.arrayValue)
        #expect(history.map { $0["version"]?.integerValue } == [1, 2, 1])
        #expect(history.map { $0["kind"]?.stringValue } == ["deployed", "deployed", "rolledBack"])
        let secondStart = try #require(history[1]["from"]?["time"]?.stringValue)
        let at = try #require(
            await workspace.run("deployments", "--target", "production", "--at", secondStart, "--json").json
        )
        #expect(at.arrayValue?.first?["serving"]?["version"] == 2, "a deployment serves from its own instant: \(at)")
        #expect(at.arrayValue?.first?["proof"]?["from"] == history[1]["from"]?["seq"])
        #expect(at.arrayValue?.first?["proof"]?["until"] == history[2]["from"]?["seq"])
        let before = await workspace.run("deployments", "--at", "2000-01-01", "--json")
        #expect(before.json?.arrayValue?.first?["serving"] == .null)
        #expect(await workspace.run("deployments", "--at", "2000-01-01").out.contains("nothing served"))

        let lineage = try #require(
            await workspace.run("lineage", "access-anomaly@2", "--json").json?["nodes"]?.arrayValue
        )
        let types = lineage.compactMap { $0["type"]?.stringValue }
        #expect(
            types == [
                "data.extracted", "dataset.built", "model.trained", "model.evaluated", "model.registered",
                "model.approved", "model.deployed", "model.rolledBack",
            ],
            "\(types)"
        )
        let seqs = lineage.compactMap { $0["seq"]?.integerValue }
        #expect(seqs == seqs.sorted())

        let retired = await workspace.run("retire", "access-anomaly@2", "--reason", "superseded", "--json")
        #expect(retired.status == 0, "\(retired.err)")
        #expect(retired.json?["status"] == "retired")
        let redeploy = await workspace.run("deploy", "access-anomaly@2")
        #expect(redeploy.status == 1)
        #expect(redeploy.err.contains("retired"), "\(redeploy.err)")
        #expect(await workspace.run("rollback", "access-anomaly", "--to", "2").status == 1)
        #expect(await workspace.run("retire", "access-anomaly@1").err.contains("serves production"))

        let registry = try #require(await workspace.run("registry", "--json").json?.arrayValue)
        #expect(registry.map { $0["status"]?.stringValue } == ["deployed", "retired"])
        #expect(registry[0]["serving"] == ["production"])
        let table = await workspace.run("registry")
        #expect(table.out.contains("access-anomaly@2  retired"), "\(table.out)")
        let one = await workspace.run("registry", "access-anomaly@1")
        #expect(one.out.contains("approved seq"), "\(one.out)")
        #expect(await workspace.run("verify").status == 0)
        try await IndependentPeerTests.expectPeerAccepts(workspace)
    }

    /// On SQLite (the read tables are `ledger.projections.db`) and, in the shared pass, on PostgreSQL (tables
    /// `projection_*` in the log's schema).
    @Test("projections check finds a row edited in the database; rebuild repairs it")
    func tamperedReadTables() async throws {
        let (workspace, _) = try await Self.deployedWorkspace()
        #expect(await workspace.run("projections", "check").status == 0)
        let logURL = try #require(try GovernanceVerifyTests.config(of: workspace)["log"]?.stringValue)
        let path = URL(fileURLWithPath: workspace.root).appendingPathComponent("ledger.projections.db").path
        let edit = "SET status = 'retired', doc = replace(doc, '\"deployed\"', '\"retired\"')"
        if logURL.hasPrefix("sqlite:") {
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in try db.execute(sql: "UPDATE registry " + edit) }
        } else {
            try await RawSQL(logURL).execute("UPDATE projection_registry " + edit)
        }
        let check = await workspace.run("projections", "check", "--json")
        #expect(check.status == 3)
        #expect(check.json?["differences"] == ["registry access-anomaly@1"], "\(check.out)")
        let verify = await workspace.run("verify", "--json")
        #expect(verify.status == 3, "verify covers the read tables too")
        #expect(verify.json?["projections"]?["differences"] == ["registry access-anomaly@1"], "\(verify.out)")
        let rebuilt = await workspace.run("projections", "rebuild", "--json")
        #expect(rebuilt.status == 0, "\(rebuilt.err)")
        #expect(rebuilt.json?["rows"]?["registry"] == 1)
        #expect(await workspace.run("projections", "check").status == 0)
        #expect(await workspace.run("registry", "access-anomaly@1", "--json").json?["status"] == "deployed")

        // A deleted read-table file is rebuilt by the next query.
        guard logURL.hasPrefix("sqlite:") else { return }
        try FileManager.default.removeItem(atPath: path)
        #expect(await workspace.run("registry", "--json").json?.arrayValue?.first?["status"] == "deployed")
    }

    @Test("an approval signed offline is appended later; a stale one is refused")
    func offlineApproval() async throws {
        let (workspace, dataset) = try await Self.deployedWorkspace()
        try await Self.register(workspace, dataset: dataset, seed: 3)
        let size = try await workspace.size()
        let envelope = workspace.folder.path("approval.dsse.json")
        let signed = await workspace.run(
            "approve",
            "access-anomaly@2",
            "--reason",
            "signed on my laptop",
            "--offline",
            "--out",
            envelope,
            "--json"
        )
        try #require(signed.status == 0, "\(signed.err)")
        #expect(signed.json?["seq"]?.integerValue == Int64(size))
        #expect(try await workspace.size() == size, "offline signing appends nothing")
        #expect(await workspace.run("append", "--envelope", envelope).status == 0)
        #expect(
            await workspace.run("registry", "access-anomaly@2", "--json").json?["approvals"]?.arrayValue?.count == 1
        )

        let stale = workspace.folder.path("stale.dsse.json")
        let alice = try await Self.addApprover(workspace, name: "alice")
        #expect(
            await workspace.run(
                "approve",
                "access-anomaly@2",
                "--reason",
                "late",
                "--key",
                alice,
                "--offline",
                "--out",
                stale
            ).status == 0
        )
        #expect(
            await workspace.run(
                "append",
                "--type",
                "note.added",
                "--data",
                #"{"text":"meanwhile"}"#,
                "--key",
                workspace.adminKey
            ).status == 0
        )
        let refused = await workspace.run("append", "--envelope", stale)
        #expect(refused.status == 1)
        #expect(refused.err.contains("seq"), "\(refused.err)")
    }

    static func addApprover(_ workspace: TestWorkspace, name: String) async throws -> String {
        let key = workspace.folder.path("\(name).key")
        try #require(await ledger("keys", "generate", "--name", name, "--role", "approver", "--out", key).status == 0)
        let added = await workspace.run(
            "keys",
            "add",
            "--public",
            key + ".pub",
            "--name",
            name,
            "--role",
            "approver",
            "--key",
            workspace.adminKey
        )
        try #require(added.status == 0, "\(added.err)")
        return key
    }

    @Test("events --follow prints an event appended while it waits")
    func follow() async throws {
        let workspace = try await TestWorkspace.make()
        let size = try await workspace.size()
        let root = workspace.root
        let follower = Task {
            await ledger(
                "events",
                "--follow",
                "--after",
                String(size - 1),
                "--limit",
                "1",
                "--poll",
                "0.05",
                "--workspace",
                root
            )
        }
        try await Task.sleep(for: .milliseconds(300))
        let note = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            #"{"text":"for subscribers"}"#,
            "--key",
            workspace.adminKey
        )
        try #require(note.status == 0, "\(note.err)")
        let followed = await follower.value
        #expect(followed.status == 0, "\(followed.err)")
        let line = try #require(followed.json)
        #expect(line["seq"]?.integerValue == Int64(size))
        #expect(line["event"]?["type"] == "note.added")
        #expect(line["event"]?["data"]?["text"] == "for subscribers")

        let all = await workspace.run("events", "--envelopes")
        #expect(all.out.split(separator: "\n").count == size + 1)
        #expect(await workspace.run("events", "--type", "nope").status == 2)
    }

    @Test("governance commands refuse bad input with a clear error and append nothing")
    func badInput() async throws {
        let (workspace, _) = try await Self.deployedWorkspace()
        let size = try await workspace.size()
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["approve", "access-anomaly", "--reason", "x"], 2, "MODEL@VERSION"),
            (["approve", "access-anomaly@9", "--reason", "x"], 1, "versions 1 to 1"),
            (["approve", "ghost@1", "--reason", "x"], 1, "no registered version"),
            (["approve", "access-anomaly@1", "--reason", "again"], 1, "counts once"),
            (["approve", "access-anomaly@1", "--reason", "x", "--offline"], 2, "--out"),
            (["deploy", "access-anomaly@1"], 1, "already serves production"),
            (["deploy", "access-anomaly@1", "--target", "bad target"], 2, "--target"),
            (["rollback", "access-anomaly"], 1, "nothing to roll back to"),
            (["rollback", "access-anomaly", "--target", "staging"], 1, "no version of access-anomaly serves staging"),
            (["retire", "access-anomaly@1"], 1, "serves production"),
            (["deployments", "--at", "yesterday"], 2, "--at"),
            (["lineage", "access-anomaly@7"], 1, "not a registered version"),
            (["runs", "nope"], 1, "no run nope"),
            (["drift", "--last", "0"], 2, "--last"),
            (["deploy", "access-anomaly@1", "--target", "staging", "--key", workspace.adminKey], 1, "deployer role"),
        ]
        for testCase in cases {
            let result = await ledger(testCase.arguments + ["--workspace", workspace.root])
            #expect(result.status == testCase.status, "\(testCase.arguments): \(result.err)")
            #expect(result.err.contains(testCase.message), "\(testCase.arguments): \(result.err)")
        }
        #expect(try await workspace.size() == size)
    }
}
