import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Each bad input gets a one-line error naming the problem, a non-zero exit, and an unchanged log.
@Suite("CLI bad input")
struct BadInputTests {
    static func expectRefused(
        _ workspace: TestWorkspace,
        _ arguments: [String],
        status: Int32 = 1,
        mentions: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try await workspace.size()
        let result = await ledger(arguments + ["--workspace", workspace.root])
        #expect(result.status == status, "exit \(result.status): \(result.err)", sourceLocation: sourceLocation)
        let lines = result.err.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(result.err)", sourceLocation: sourceLocation)
        #expect(result.err.hasPrefix("error: "), sourceLocation: sourceLocation)
        #expect(
            result.err.contains(mentions),
            "\"\(result.err)\" does not mention \"\(mentions)\"",
            sourceLocation: sourceLocation
        )
        #expect(try await workspace.size() == before, "the log changed", sourceLocation: sourceLocation)
    }

    @Test("malformed JSON")
    func malformedJSON() async throws {
        let workspace = try await TestWorkspace.make()
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "note.added", "--data", "{\"text\": ", "--key", workspace.adminKey],
            mentions: "--data is not valid JSON"
        )
    }

    @Test("an unknown event type")
    func unknownType() async throws {
        let workspace = try await TestWorkspace.make()
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "model.teleported", "--data", "{}", "--key", workspace.adminKey],
            mentions: "unknown event type \"model.teleported\""
        )
    }

    @Test("data that does not match the schema")
    func schemaMismatch() async throws {
        let workspace = try await TestWorkspace.make()
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "note.added", "--data", "{\"text\": 42}", "--key", workspace.adminKey],
            mentions: "data.text: expected a string"
        )
    }

    @Test("a wrong key file, a missing key file and a key file others can read")
    func badKeyFiles() async throws {
        let workspace = try await TestWorkspace.make()
        let notAKey = try workspace.folder.write("hello\n", to: "not-a-key.pem")
        chmod(notAKey, 0o600)
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "note.added", "--data", "{\"text\":\"x\"}", "--key", notAKey],
            mentions: "is not an Ed25519 PKCS#8 private key"
        )
        try await Self.expectRefused(
            workspace,
            [
                "append", "--type", "note.added", "--data", "{\"text\":\"x\"}", "--key",
                workspace.folder.path("nope.key"),
            ],
            mentions: "no such file"
        )
        let leaky = workspace.folder.path("leaky.key")
        try FileManager.default.copyItem(atPath: workspace.adminKey, toPath: leaky)
        chmod(leaky, 0o644)
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "note.added", "--data", "{\"text\":\"x\"}", "--key", leaky],
            mentions: "chmod 600"
        )
    }

    @Test("an append by a key without the role, and by a key not in the log")
    func roles() async throws {
        let workspace = try await TestWorkspace.make()
        let generated = await ledger(
            "keys",
            "generate",
            "--name",
            "eve",
            "--role",
            "admin",
            "--out",
            workspace.folder.path("eve.key")
        )
        #expect(generated.status == 0)
        try await Self.expectRefused(
            workspace,
            [
                "append", "--type", "note.added", "--data", "{\"text\":\"x\"}", "--key",
                workspace.folder.path("eve.key"),
            ],
            mentions: "is not in the log's keyring"
        )
        try await Self.expectRefused(
            workspace,
            [
                "keys", "add", "--public", workspace.folder.path("eve.key.pub"), "--name", "eve", "--role", "admin",
                "--key",
                workspace.logKey,
            ],
            mentions: "lacks the admin role"
        )
    }

    @Test("a small-order public key and a batch with a malformed subject")
    func weakKeyAndBadSubject() async throws {
        let workspace = try await TestWorkspace.make()
        try await Self.expectRefused(
            workspace,
            [
                "keys", "add", "--public", "01" + String(repeating: "0", count: 62), "--name", "forgeable", "--role",
                "approver", "--key", workspace.adminKey,
            ],
            mentions: "small-order"
        )
        let batch = try workspace.folder.write(
            #"{"type":"note.added","data":{"text":"x"},"subject":"nope"}"#,
            to: "b.jsonl"
        )
        try await Self.expectRefused(
            workspace,
            ["append", "--batch", batch, "--key", workspace.adminKey],
            mentions: "\"subject\" must be an array"
        )
        let empty = try workspace.folder.write(
            #"{"type":"note.added","data":{"text":"x"},"subject":[{"name":"","digest":{"sha256":"\#(String(repeating: "a", count: 64))"}}]}"#,
            to: "e.jsonl"
        )
        try await Self.expectRefused(
            workspace,
            ["append", "--batch", empty, "--key", workspace.adminKey],
            mentions: "subject[0].name: expected a string of 1 to 64 characters"
        )
    }

    @Test("a config that does not match the log is refused")
    func mismatchedConfig() async throws {
        let workspace = try await TestWorkspace.make()
        let other = try await TestWorkspace.make(logID: "other.example/log")
        // The other log's config, still naming this workspace's log and artifacts (on SQLite a relative path does
        // that by itself; a PostgreSQL or S3 URL must be kept).
        let config = workspace.root + "/ledger.json"
        let own = try CanonicalJSON.parse(try String(contentsOfFile: config, encoding: .utf8))
        var foreign = try #require(
            try CanonicalJSON.parse(try String(contentsOfFile: other.root + "/ledger.json", encoding: .utf8))
                .objectValue
        )
        for member in ["log", "artifacts"] { foreign[member] = own[member] }
        try Data(try CanonicalJSON.encode(.object(foreign))).write(to: URL(fileURLWithPath: config))
        let result = await workspace.run("keys", "list")
        #expect(result.status == 1)
        #expect(result.err.contains("does not match the log"))
    }

    @Test("values that would overflow are usage errors, not crashes")
    func overflow() async throws {
        let workspace = try await TestWorkspace.make()
        #expect(await workspace.run("log", "--after", "18446744073709551615").status == 2)
        #expect(await workspace.run("verify", "--threads", "2305843009213693952").status == 2)
        #expect(await workspace.run("prove", "inclusion", "18446744073709551615").status == 1)
    }

    @Test("usage mistakes in verify and log are caught before anything runs")
    func verifyAndLogUsage() async throws {
        let workspace = try await TestWorkspace.make()
        #expect(await workspace.run("verify", "--untrusted").status == 2)
        #expect(await workspace.run("log", "--type", "note.add").status == 2)
        let crlf = try workspace.folder.write("{}\r\n{}\r\n", to: "crlf.jsonl")
        let result = await ledger("verify", "--from", crlf, "--untrusted")
        #expect(result.status == 3, "a mangled export is a verdict on its bytes")
        #expect(result.err.contains("CRLF"))
        #expect(try await workspace.size() == 1)
    }

    @Test("a private key given where a public one is expected is named as such")
    func publicKeyAsPrivate() async throws {
        let workspace = try await TestWorkspace.make()
        try await Self.expectRefused(
            workspace,
            ["append", "--type", "note.added", "--data", #"{"text":"x"}"#, "--key", workspace.adminKey + ".pub"],
            mentions: "it is a public key"
        )
    }

    @Test("a missing workspace")
    func missingWorkspace() async throws {
        let folder = try TemporaryFolder()
        let result = await ledger("log", "--workspace", folder.path("nowhere"))
        #expect(result.status == 1)
        #expect(result.err.split(separator: "\n").count == 1)
        #expect(result.err.contains("is not a ModelLedger workspace"))
    }

    @Test("usage errors exit 2")
    func usage() async throws {
        let workspace = try await TestWorkspace.make()
        let result = await workspace.run("append", "--type", "note.added")
        #expect(result.status == 2)
        let bad = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{}",
            "--key",
            workspace.adminKey,
            "--subject",
            "x=md5:1"
        )
        #expect(bad.status == 2)
        #expect(bad.err.contains("NAME=sha256:"))
    }

    @Test("init refuses a folder that already holds a workspace")
    func doubleInit() async throws {
        let workspace = try await TestWorkspace.make()
        let result = await ledger("init", workspace.root)
        #expect(result.status == 1)
        #expect(result.err.contains("already holds a workspace"))
        #expect(try await workspace.size() == 1)
    }
}
