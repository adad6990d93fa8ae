import Foundation
import LedgerCore
import LedgerTestSupport
import Testing

/// A workspace made by an earlier release (`Fixtures/compat-v1`, see its README) still works: its log verifies with
/// the recorded size and root, its projections rebuild to the recorded rows, every query prints the recorded JSON,
/// and each registered model reproduces identically from its stored artifacts and the Audit DB beside it.
///
/// The fixture is committed as that release wrote it and is never regenerated to make this test pass: a difference
/// here is a change in what users see or in how existing logs are read. A deliberate format change updates
/// `expected.json` in the commit that makes it, and says why.
@Suite("Compatibility with a workspace made by an earlier release")
struct CompatibilityFixtureTests {
    static let versions = ["access-anomaly@1", "access-anomaly@2"]

    /// A copy of the fixture's workspace in a fresh scratch folder (the committed one is never written to), and
    /// the recorded results.
    static func workspace() throws -> (folder: TemporaryFolder, root: String, expected: JSONValue) {
        let fixture = try #require(
            Bundle.module.url(forResource: "Fixtures/compat-v1", withExtension: nil),
            "Fixtures/compat-v1 is missing from the test bundle"
        )
        let folder = try TemporaryFolder()
        let root = folder.path("ws")
        try FileManager.default.copyItem(atPath: fixture.appendingPathComponent("workspace").path, toPath: root)
        let expected = try CanonicalJSON.parse(
            try #require(FileManager.default.contents(atPath: fixture.appendingPathComponent("expected.json").path))
        )
        return (folder, root, expected)
    }

    @Test("verify exits 0 with the recorded genesis, size, root and event types, and the checkpoint is consistent")
    func verifies() async throws {
        let (folder, root, expected) = try Self.workspace()
        defer { withExtendedLifetime(folder) {} }
        let verified = await ledger("verify", "--json", "--workspace", root)
        #expect(verified.status == 0, "\(verified.err)")
        let report = try #require(verified.json)
        #expect(report["ok"] == true)
        for member in ["genesis", "size", "root", "types"] {
            #expect(report[member] == expected[member], "verify's \(member)")
        }

        let genesis = try #require(expected["genesis"]?.stringValue)
        let anchored = await ledger(
            "verify",
            "--trust",
            genesis,
            "--checkpoint",
            root + "/checkpoint.txt",
            "--json",
            "--workspace",
            root
        )
        #expect(anchored.status == 0, "\(anchored.err)")
        #expect(anchored.json?["trusted"] == true)
    }

    @Test("projections rebuild to the recorded rows: registry, deployments, runs, lineage and drift")
    func projectionsRebuild() async throws {
        let (folder, root, expected) = try Self.workspace()
        defer { withExtendedLifetime(folder) {} }
        let rebuilt = await ledger("projections", "rebuild", "--json", "--workspace", root)
        try #require(rebuilt.status == 0, "\(rebuilt.err)")

        for query in ["registry", "deployments", "runs", "drift"] {
            let result = await ledger(query, "--json", "--workspace", root)
            #expect(result.status == 0, "\(query): \(result.err)")
            #expect(result.json == expected[query], "ledger \(query) --json differs from expected.json")
        }
        for version in Self.versions {
            let result = await ledger("lineage", version, "--json", "--workspace", root)
            #expect(result.status == 0, "lineage \(version): \(result.err)")
            #expect(result.json == expected["lineage"]?[version], "ledger lineage \(version) --json differs")
        }
        let checked = await ledger("projections", "check", "--workspace", root)
        #expect(checked.status == 0, "\(checked.out)\(checked.err)")
    }

    @Test("the log names the recorded snapshot, dataset and model digests")
    func digests() async throws {
        let (folder, root, expected) = try Self.workspace()
        defer { withExtendedLifetime(folder) {} }
        let events = await ledger("events", "--workspace", root)
        try #require(events.status == 0, "\(events.err)")
        var snapshots: [JSONValue] = []
        var datasets: [JSONValue] = []
        var models: [JSONValue] = []
        for line in events.out.split(separator: "\n") {
            let event = try #require(try CanonicalJSON.parse(String(line))["event"])
            let data = event["data"]
            switch event["type"]?.stringValue {
            case "data.extracted": snapshots.append(try #require(data?["snapshot"]?["sha256"]))
            case "dataset.built": datasets.append(try #require(data?["dataset"]?["sha256"]))
            case "model.trained": models.append(try #require(data?["artifact"]?["sha256"]))
            default: break
            }
        }
        #expect(JSONValue.array(snapshots) == expected["digests"]?["snapshots"])
        #expect(JSONValue.array(datasets) == expected["digests"]?["datasets"])
        #expect(JSONValue.array(models) == expected["digests"]?["models"])
    }

    @Test("reproduce rebuilds each registered version identically, with the recorded checks", arguments: versions)
    func reproduces(version: String) async throws {
        let (folder, root, expected) = try Self.workspace()
        defer { withExtendedLifetime(folder) {} }
        let reproduced = await ledger(
            "reproduce",
            version,
            "--source",
            "sqlite:\(root)/audit.db",
            "--json",
            "--workspace",
            root
        )
        #expect(reproduced.status == 0, "\(reproduced.out)\(reproduced.err)")
        #expect(reproduced.json?["identical"] == true)
        #expect(reproduced.json == expected["reproduce"]?[version], "ledger reproduce \(version) --json differs")
    }
}
