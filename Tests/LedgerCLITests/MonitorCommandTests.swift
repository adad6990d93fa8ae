import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `ledger monitor` on logs that `ledger checkpoint` signed and `ledger publish` wrote: it follows the log, keeps its
/// state in a file, exits 3 on alarms with `--once`, and reads a published folder served by a static HTTP server.
@Suite(.serialized) struct MonitorCommandTests {
    /// The JSON objects of a run's standard output, one per line.
    static func lines(_ result: CLIResult) -> [JSONValue] {
        result.out.split(separator: "\n").compactMap { try? CanonicalJSON.parse(String($0)) }
    }

    static func alarms(_ result: CLIResult) -> [String] {
        lines(result).compactMap { $0["kind"] == "alarm" ? $0["alarm"]?.stringValue : nil }
    }

    /// A workspace with `notes` notes, checkpointed and published into `public/`.
    static func published(notes: Int) async throws -> (TestWorkspace, String) {
        let workspace = try await TestWorkspace.make(logID: "test.example/monitor")
        try await appendNotes(workspace, count: notes)
        try #require(await workspace.run("checkpoint").status == 0)
        let out = workspace.folder.path("public")
        let published = await workspace.run("publish", "--out", out)
        try #require(published.status == 0, "\(published.err)")
        return (workspace, out)
    }

    @Test func followsTheLogAndKeepsItsState() async throws {
        let (workspace, out) = try await Self.published(notes: 20)
        let state = workspace.folder.path("monitor.json")
        let first = await ledger("monitor", out, "--trust", workspace.genesis, "--state", state, "--once")
        #expect(first.status == 0, "\(first.err)")
        let checkpoint = try #require(Self.lines(first).first)
        #expect(checkpoint["kind"] == "checkpoint")
        #expect(checkpoint["size"]?.integerValue == 21)
        #expect(FileManager.default.fileExists(atPath: state))

        // A key added later is an event worth a human's attention, reported once.
        let key = workspace.folder.path("approver")
        #expect(await ledger("keys", "generate", "--name", "approver", "--role", "approver", "--out", key).status == 0)
        let added = await workspace.run(
            "keys",
            "add",
            "--public",
            key + ".pub",
            "--name",
            "approver",
            "--role",
            "approver",
            "--key",
            workspace.adminKey
        )
        try #require(added.status == 0, "\(added.err)")
        try await appendNotes(workspace, count: 5, from: 20)
        try #require(await workspace.run("checkpoint").status == 0)
        try #require(await workspace.run("publish", "--out", out).status == 0)
        let second = await ledger("monitor", out, "--trust", workspace.genesis, "--state", state, "--once")
        #expect(second.status == 0, "\(second.err)")
        let events = Self.lines(second).filter { $0["kind"] == "event" }
        #expect(events.map { $0["type"] } == ["key.added"])
        #expect(events.first?["seq"]?.integerValue == 21)
        let third = await ledger("monitor", out, "--trust", workspace.genesis, "--state", state, "--once")
        #expect(third.status == 0 && third.out.isEmpty)
    }

    /// A bit flipped in an entry bundle, the published folder of an earlier size shown after a later one, another
    /// genesis, and a policy whose witness never cosigned: each is an alarm and exit status 3, and the state file
    /// keeps the last accepted checkpoint.
    @Test func alarmsExitThree() async throws {
        let (workspace, out) = try await Self.published(notes: 20)
        let earlier = workspace.folder.path("earlier")
        try FileManager.default.copyItem(atPath: out, toPath: earlier)
        try await appendNotes(workspace, count: 10, from: 20)
        try #require(await workspace.run("checkpoint").status == 0)
        try #require(await workspace.run("publish", "--out", out).status == 0)
        let state = workspace.folder.path("monitor.json")
        #expect(await ledger("monitor", out, "--trust", workspace.genesis, "--state", state, "--once").status == 0)
        let accepted = try String(contentsOfFile: state, encoding: .utf8)

        let truncated = await ledger("monitor", earlier, "--trust", workspace.genesis, "--state", state, "--once")
        #expect(truncated.status == 3)
        #expect(Self.alarms(truncated) == ["truncation"])
        #expect(try String(contentsOfFile: state, encoding: .utf8) == accepted)

        let flipped = workspace.folder.path("flipped")
        try FileManager.default.copyItem(atPath: earlier, toPath: flipped)
        let bundle = flipped + "/tile/entries/000.p/21"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: bundle)))
        bytes[100] ^= 0x04
        try Data(bytes).write(to: URL(fileURLWithPath: bundle))
        let tampered = await ledger("monitor", flipped, "--trust", workspace.genesis, "--once")
        #expect(tampered.status == 3)
        #expect(Self.alarms(tampered) == ["badCheckpoint"])

        let stranger = await ledger("monitor", out, "--trust", String(repeating: "ab", count: 32), "--once")
        #expect(stranger.status == 3)
        #expect(Self.alarms(stranger) == ["unknownKey"])

        let vkey = await workspace.run("keys", "vkey")
        try #require(vkey.status == 0, "\(vkey.err)")
        let cosigner = try CosignatureVerifier(
            name: "witness.test/w1",
            publicKey: TestKeys.key("witness").publicKey.rawRepresentation
        )
        let policy = try workspace.folder.write(
            """
            log \(vkey.out.split(separator: "\n")[0])
            witness w1 \(cosigner.verifierKey)
            quorum w1

            """,
            to: "witnesses.policy"
        )
        let unwitnessed = await ledger("monitor", out, "--trust", workspace.genesis, "--policy", policy, "--once")
        #expect(unwitnessed.status == 3, "\(unwitnessed.err)")
        #expect(Self.alarms(unwitnessed) == ["noQuorum"])
    }

    /// `--state monitor.json`, a bare file name, is kept in the current folder, its temporary file too (the `ledger`
    /// executable in its own process, since a test must not change the test runner's folder).
    @Test(.enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required))
    func aRelativeStatePathIsInTheCurrentFolder() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let (workspace, out) = try await Self.published(notes: 3)
        let here = workspace.folder.path("here")
        try FileManager.default.createDirectory(atPath: here, withIntermediateDirectories: false)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["monitor", out, "--trust", workspace.genesis, "--state", "monitor.json", "--once"]
        process.currentDirectoryURL = URL(fileURLWithPath: here)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: here) == ["monitor.json"])
    }

    @Test func refusesBadArguments() async throws {
        let notHex = await ledger("monitor", "/nonexistent", "--trust", "xyz", "--once")
        #expect(notHex.status == 2)
        #expect(notHex.err.contains("--trust must be 64 hex characters"))
        let nothing = await ledger("monitor", "/nonexistent", "--trust", String(repeating: "0", count: 64), "--once")
        #expect(nothing.status == 1)
        #expect(nothing.err.contains("no checkpoint is published there yet"))
    }

    @Test(
        "the monitor reads a published folder served by python3 -m http.server",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") || ExternalTools.required)
    )
    func followsALogOverHTTP() async throws {
        let (workspace, out) = try await Self.published(notes: 300)
        let server = try await StaticHTTPServer(serving: out, scratch: workspace.folder)
        defer { server.stop() }
        let result = await ledger("monitor", server.url, "--trust", workspace.genesis, "--once")
        #expect(result.status == 0, "\(result.err)")
        #expect(Self.lines(result).first?["size"]?.integerValue == 301)
    }
}
