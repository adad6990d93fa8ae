import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// The governance rules at the CLI: `ledger deploy` refuses a version without its approvals and appends nothing,
/// and a properly signed `model.deployed` that breaks the rule, written into the database around the program, is
/// reported by `ledger verify` at its seq with exit status 3.
@Suite("Governance at the CLI: deploy needs approvals, and verify catches a deployment written around the program")
struct GovernanceVerifyTests {
    static let version = "access-anomaly@1"

    /// A workspace whose log ends with a registered `access-anomaly@1` that nobody approved yet.
    static func registeredWorkspace() async throws -> TestWorkspace {
        let (workspace, _, dataset) = try await ModelTests.workspaceWithDataset()
        let trained = await workspace.run("train", "--dataset", dataset, "--json")
        try #require(trained.status == 0, "\(trained.err)")
        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        let evaluated = await workspace.run("evaluate", "--model", model, "--json")
        try #require(evaluated.status == 0, "\(evaluated.err)")
        try #require(evaluated.json?["registered"] == .string(version), "\(evaluated.out)")
        return workspace
    }

    /// The workspace's `ledger.json`.
    static func config(of workspace: TestWorkspace) throws -> JSONValue {
        try CanonicalJSON.parse(Data(contentsOf: URL(fileURLWithPath: "\(workspace.root)/ledger.json")))
    }

    /// A path from `ledger.json`, which are relative to the workspace.
    static func path(_ relative: String, in workspace: TestWorkspace) -> String {
        relative.hasPrefix("/") ? relative : "\(workspace.root)/\(relative)"
    }

    /// The registry row of `version`, from `ledger registry --json`.
    static func registryEntry(of version: Int, in workspace: TestWorkspace) async throws -> JSONValue {
        let registry = await workspace.run("registry", "--json")
        try #require(registry.status == 0, "\(registry.err)")
        return try #require(
            registry.json?.arrayValue?.first { $0["version"]?.integerValue == Int64(version) },
            "\(registry.out)"
        )
    }

    @Test("deploy without approvals exits 1 and appends nothing; after an approval it deploys and the log verifies")
    func deployNeedsApprovals() async throws {
        let workspace = try await Self.registeredWorkspace()
        #expect(try await Self.registryEntry(of: 1, in: workspace)["status"] == "pending")
        let before = try await workspace.size()

        let refused = await workspace.run("deploy", Self.version)
        #expect(refused.status == 1, "\(refused.out)")
        #expect(refused.err.contains("0 of the 1 distinct approvals"), "\(refused.err)")
        #expect(try await workspace.size() == before, "a refused deploy appended something")

        let approved = await workspace.run("approve", Self.version, "--reason", "ok")
        try #require(approved.status == 0, "\(approved.err)")
        let deployed = await workspace.run("deploy", Self.version, "--json")
        try #require(deployed.status == 0, "\(deployed.err)")
        #expect(deployed.json?["type"] == "model.deployed")
        #expect(deployed.json?["seq"]?.integerValue == Int64(before + 1))
        #expect(try await workspace.size() == before + 2)

        let entry = try await Self.registryEntry(of: 1, in: workspace)
        #expect(entry["status"] == "deployed", "\(entry)")
        #expect(entry["serving"]?.arrayValue?.isEmpty == false, "\(entry)")
        let verified = await workspace.run("verify")
        #expect(verified.status == 0, "\(verified.out) \(verified.err)")
    }

    /// On SQLite and, in the shared pass, on PostgreSQL: the database's append-only rules allow an insert at the
    /// next seq, so a forged event gets in there, and only verify's replay of the authority rules catches it.
    @Test("a signed model.deployed of a version with no approvals, inserted with raw SQL, fails verify at its seq")
    func deploymentWrittenAroundTheProgram() async throws {
        let workspace = try await Self.registeredWorkspace()
        let config = try Self.config(of: workspace)
        let logURL = try #require(config["log"]?.stringValue)
        let keyPath = Self.path(try #require(config["keys"]?["deployer"]?.stringValue), in: workspace)
        let deployer = try SigningKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))

        // The log as it stands: it verifies, and its state gives the next seq, prev and time.
        let raw = try await RawLog(logURL, in: workspace)
        let leaves = try await raw.leaves()
        let report = Verifier().verify(leaves: leaves)
        try #require(report.isVerified, "\(report.failure?.description ?? "")")
        let state = report.state
        let version = try #require(state.models.version("access-anomaly", 1))
        #expect(version.approvals.isEmpty)

        let forged = try Forgery.next(
            after: state,
            type: "model.deployed",
            data: [
                "name": "access-anomaly", "version": 1, "sha256": .string(version.artifact.hex),
                "target": "production",
            ],
            signedBy: deployer
        )
        try await raw.insertAroundTheRules(forged)

        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.out) \(verified.err)")
        #expect(verified.err.contains("seq \(forged.event.seq)"), "\(verified.err)")
        #expect(verified.err.contains("0 of the 1 distinct approvals"), "\(verified.err)")

        let json = await workspace.run("verify", "--json")
        #expect(json.status == 3, "\(json.err)")
        #expect(json.json?["ok"] == false, "\(json.out)")
        #expect(json.json?["seq"]?.integerValue == Int64(forged.event.seq), "\(json.out)")
        #expect(json.json?["code"] == "authority.policy", "\(json.out)")
        #expect(json.json?["reason"]?.stringValue?.contains("approvals") == true, "\(json.out)")
        #expect(json.json?["entries"]?.integerValue == Int64(forged.event.seq + 1), "\(json.out)")
    }
}

/// A workspace's log reached with raw SQL, whichever database holds it: what an operator with a SQL prompt could do.
enum RawLog {
    case sqlite(DatabaseQueue)
    case postgres(RawSQL)

    init(_ url: String, in workspace: TestWorkspace) async throws {
        if url.hasPrefix("sqlite:") {
            let path = GovernanceVerifyTests.path(String(url.dropFirst("sqlite:".count)), in: workspace)
            self = .sqlite(try DatabaseQueue(path: path))
        } else {
            self = .postgres(try await RawSQL(url))
        }
    }

    /// Every entry's envelope, in seq order.
    func leaves() async throws -> [[UInt8]] {
        switch self {
        case .sqlite(let queue):
            try await queue.read { db in
                try Data.fetchAll(db, sql: "SELECT envelope FROM entries ORDER BY seq").map { Array($0) }
            }
        case .postgres(let raw): try await raw.leaves()
        }
    }

    /// Appends `forged` with a plain INSERT, past every rule: the append-only triggers allow an insert at the next
    /// seq, so nothing needs dropping. What `ledger verify` must then catch.
    func insertAroundTheRules(_ forged: SignedEvent) async throws {
        switch self {
        case .sqlite(let queue):
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO entries (seq, leaf_hash, envelope, type, time, actor) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        Int64(forged.event.seq), Data(forged.leafHash.bytes), Data(forged.leaf), forged.event.type,
                        forged.event.time.rfc3339, forged.event.actor,
                    ]
                )
            }
            try queue.close()
        case .postgres(let raw): try await raw.insertAroundTheRules(forged)
        }
    }
}
