import Foundation
import LedgerBench
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerWorkspace
import Testing

/// The use cases that `verify`, `restore`, `prove verify` and `bench` call, driven directly: their typed results,
/// and their refusals as ``VerificationRefused`` values rather than printed text.
@Suite("Workspace use cases: verification, proofs and benchmarks")
struct WorkspaceUseCaseTests {
    @Test("LogVerification verifies the earlier release's workspace and binds the checkpoint passed to it")
    func verifiesFixture() async throws {
        let (folder, root, expected) = try CompatibilityFixtureTests.workspace()
        defer { withExtendedLifetime(folder) {} }
        let workspace = try Workspace.load(URL(fileURLWithPath: root))
        let verification = try await LogVerification.workspace(
            workspace,
            trust: nil,
            checkpointFiles: [root + "/checkpoint.txt"],
            threads: 2
        ) { _ in }
        #expect(verification.report.isVerified)
        #expect(verification.trusted)
        #expect(verification.report.root.hex == expected["root"]?.stringValue)
        #expect(verification.report.checkpointsVerified >= 1)
        #expect(verification.projections == nil)  // the fixture holds no read tables
    }

    @Test("an unreadable head record is refused before any entry is judged")
    func refusesBrokenHeadRecord() async throws {
        let (folder, root, _) = try CompatibilityFixtureTests.workspace()
        defer { withExtendedLifetime(folder) {} }
        try Data("not a head record\n".utf8).write(to: URL(fileURLWithPath: root + "/ledger.head"))
        let workspace = try Workspace.load(URL(fileURLWithPath: root))
        let refused = await #expect(throws: VerificationRefused.self) {
            try await LogVerification.workspace(workspace, trust: nil, checkpointFiles: [], threads: 1) { _ in }
        }
        #expect(refused?.failure.code == .checkpoint)
    }

    @Test(
        "a cut or mangled export is refused as malformed",
        arguments: ["", "a\nb", "a\r\nb\r\n", "a\n\nb\n"]
    )
    func refusesMalformedExport(contents: String) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(contents, to: "export.jsonl")
        let refused = #expect(throws: VerificationRefused.self) {
            try LogVerification.readExportRefusingMalformed(path)
        }
        #expect(refused?.failure.code == .malformed)
    }

    @Test("a well-formed export splits into its lines")
    func readsExport() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("a\nbc\n", to: "export.jsonl")
        #expect(try LogVerification.readExportRefusingMalformed(path) == [[0x61], [0x62, 0x63]])
    }

    @Test("ProofCheck accepts an inclusion proof of the fixture's log and refuses its twin with another root")
    func checksProofFile() async throws {
        let (folder, root, _) = try CompatibilityFixtureTests.workspace()
        defer { withExtendedLifetime(folder) {} }
        let workspace = try Workspace.load(URL(fileURLWithPath: root))
        let store = try await workspace.openStore()
        let document = try await LogProofs.inclusion(store: store, seq: 1, size: nil, logID: workspace.logID)
        let good = folder.path("proof.json")
        try Data(try CanonicalJSON.encode(document)).write(to: URL(fileURLWithPath: good))
        let check = try ProofCheck.file(good, checkpoint: nil, logKey: nil)
        #expect(!check.authenticated)
        guard case .inclusion(let seq, _, _, _) = check.claim else {
            Issue.record("expected an inclusion claim, got \(check.claim)")
            return
        }
        #expect(seq == 1)

        var twin = try #require(document.objectValue)
        twin["root"] = .string(String(repeating: "0", count: 64))
        let bad = folder.path("twin.json")
        try Data(try CanonicalJSON.encode(.object(twin))).write(to: URL(fileURLWithPath: bad))
        let refused = #expect(throws: VerificationRefused.self) {
            try ProofCheck.file(bad, checkpoint: nil, logKey: nil)
        }
        #expect(refused?.failure.code == .proof)
    }

    @Test("bench projections returns its figures with the documented members and the generated size")
    func benchProjections() async throws {
        let result = try await ProjectionsBenchmark.run(events: 300, runs: 1, seed: 7) { _ in }
        let members = Set(try #require(result.objectValue).keys)
        #expect(
            members == [
                "benchmark", "events", "runs", "seed", "generationSeconds", "storeSeconds", "readDecodePerSecond",
                "rebuildPerSecond", "rows", "mix", "ratio", "target", "meetsTarget",
            ]
        )
        #expect(result["benchmark"] == "projections")
        #expect(result["events"]?.doubleValue ?? 0 >= 300)
        #expect((result["rows"]?["registry"]?.doubleValue ?? 0) > 0)
    }
}
