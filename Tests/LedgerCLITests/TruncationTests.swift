import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// A log that lost entries is never verified, never appended to, and is repaired only by `ledger restore` from an
/// export: the deleted tail, the older backup put back, the edited index column.
@Suite("Truncation, restore and stored columns")
struct TruncationTests {
    /// A workspace with `notes` note events after genesis, and its log URL from ledger.json.
    static func workspace(notes: Int) async throws -> (TestWorkspace, String) {
        let workspace = try await TestWorkspace.make(logID: "test.example/truncation")
        for index in 0..<notes {
            let appended = await Self.appendNote("{\"text\":\"note \(index)\"}", in: workspace)
            try #require(appended.status == 0, "\(appended.err)")
        }
        let config = try CanonicalJSON.parse(
            try #require(FileManager.default.contents(atPath: "\(workspace.root)/ledger.json"))
        )
        return (workspace, try #require(config["log"]?.stringValue))
    }

    /// `ledger append` of a `note.added` with `data`, signed by the workspace's admin key.
    static func appendNote(_ data: String, in workspace: TestWorkspace) async -> CLIResult {
        await workspace.run("append", "--type", "note.added", "--data", data, "--key", workspace.adminKey)
    }

    /// Runs `sqlite` on a SQLite log, or `postgres` on a PostgreSQL one, with raw SQL past the store.
    static func tamper(_ url: String, in workspace: TestWorkspace, sqlite: String, postgres: [String]) async throws {
        if url.hasPrefix("sqlite:") {
            let queue = try DatabaseQueue(
                path: GovernanceVerifyTests.path(String(url.dropFirst("sqlite:".count)), in: workspace)
            )
            try await queue.write { db in try db.execute(sql: sqlite) }
            try queue.close()
        } else {
            // One statement per query: PostgreSQL's extended protocol takes no more.
            let raw = try await RawSQL(url)
            for statement in postgres {
                do {
                    try await raw.execute(statement)
                } catch {
                    Issue.record("\(statement): \(String(reflecting: error))")
                    throw error
                }
            }
        }
    }

    static func deleteTail(from seq: Int, _ url: String, in workspace: TestWorkspace) async throws {
        try await tamper(
            url,
            in: workspace,
            sqlite: "DROP TRIGGER entries_no_delete; DELETE FROM entries WHERE seq >= \(seq)",
            postgres: [
                "ALTER TABLE entries DISABLE TRIGGER USER", "DELETE FROM entries WHERE seq >= \(seq)",
                "ALTER TABLE entries ENABLE TRIGGER USER",
            ]
        )
    }

    @Test("a deleted tail fails verify naming both sizes, blocks appends, and restore brings back exactly it")
    func deletedTail() async throws {
        let (workspace, url) = try await Self.workspace(notes: 20)
        let export = workspace.folder.path("backup.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        let before = await workspace.run("verify", "--json")
        try #require(before.status == 0, "\(before.err)")
        let root = try #require(before.json?["root"]?.stringValue)

        try await Self.deleteTail(from: 15, url, in: workspace)

        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.out) \(verified.err)")
        #expect(verified.err.contains("15 entries") && verified.err.contains("21"), "\(verified.err)")
        #expect(verified.err.contains("deleted"), "\(verified.err)")
        let json = await workspace.run("verify", "--json")
        #expect(json.status == 3 && json.json?["ok"] == false, "\(json.out)")
        #expect(json.json?["code"] == "chain.checkpoint", "\(json.out)")

        // An append must not reuse seq 15 and paper over the deletion.
        let appended = await Self.appendNote("{\"text\":\"after\"}", in: workspace)
        #expect(appended.status != 0, "\(appended.out)")
        #expect(appended.err.contains("15..<21"), "\(appended.err)")
        #expect(await workspace.run("log", "--json").json?.arrayValue?.count != 21)

        let restored = await workspace.run("restore", "--from", export, "--json")
        #expect(restored.status == 0, "\(restored.err)")
        #expect(restored.json?["restored"]?.integerValue == 6, "\(restored.out)")
        #expect(restored.json?["root"]?.stringValue == root, "\(restored.out)")

        let after = await workspace.run("verify", "--json")
        #expect(after.status == 0, "\(after.err)")
        #expect(after.json?["root"]?.stringValue == root, "\(after.out)")
        #expect(after.json?["size"]?.integerValue == 21, "\(after.out)")
        let next = await Self.appendNote("{\"text\":\"after\"}", in: workspace)
        #expect(next.status == 0, "\(next.err)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test("restore refuses an export that is shorter than the head record or is another history")
    func restoreRefusals() async throws {
        let (workspace, url) = try await Self.workspace(notes: 6)
        let short = workspace.folder.path("short.jsonl")
        #expect(await workspace.run("export", "--out", short).status == 0)
        for index in 0..<4 {
            let appended = await Self.appendNote("{\"text\":\"more \(index)\"}", in: workspace)
            try #require(appended.status == 0)
        }
        try await Self.deleteTail(from: 5, url, in: workspace)
        // The export ends at 7 entries, the record says 11: it cannot restore what the record holds.
        let refused = await workspace.run("restore", "--from", short)
        #expect(refused.status == 3, "\(refused.out) \(refused.err)")
        #expect(refused.err.contains("11"), "\(refused.err)")
        #expect(await workspace.run("verify").status == 3)

        // Another log's export (another genesis) is refused by the trust anchor.
        let (other, _) = try await Self.workspace(notes: 12)
        let foreign = other.folder.path("foreign.jsonl")
        #expect(await other.run("export", "--out", foreign).status == 0)
        let foreignRestore = await workspace.run("restore", "--from", foreign)
        #expect(foreignRestore.status == 3, "\(foreignRestore.err)")
        #expect(await workspace.run("verify").status == 3)
    }

    @Test(
        "an older backup of ledger.db put back is caught the same way and repaired the same way",
        .embeddedFilesOnly("copies the SQLite file")
    )
    func olderBackup() async throws {
        let (workspace, url) = try await Self.workspace(notes: 5)
        let database = GovernanceVerifyTests.path(String(url.dropFirst("sqlite:".count)), in: workspace)
        #expect(await workspace.run("verify").status == 0)
        // A consistent copy of the database at 6 entries (VACUUM INTO takes a snapshot).
        let backup = workspace.folder.path("ledger-backup.db")
        let queue = try DatabaseQueue(path: database)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO '\(backup)'") }
        try queue.close()
        for index in 0..<5 {
            let appended = await Self.appendNote("{\"text\":\"later \(index)\"}", in: workspace)
            try #require(appended.status == 0)
        }
        let export = workspace.folder.path("full.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)

        for sidecar in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + sidecar) }
        try FileManager.default.copyItem(atPath: backup, toPath: database)

        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.err)")
        #expect(verified.err.contains("6 entries") && verified.err.contains("11"), "\(verified.err)")
        #expect(
            await Self.appendNote("{\"text\":\"x\"}", in: workspace).status != 0
        )
        let restored = await workspace.run("restore", "--from", export, "--json")
        #expect(restored.status == 0 && restored.json?["restored"]?.integerValue == 5, "\(restored.err)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test(
        "a lost log database is restored whole from an export",
        .embeddedFilesOnly("removes the SQLite file")
    )
    func lostDatabase() async throws {
        let (workspace, url) = try await Self.workspace(notes: 3)
        let export = workspace.folder.path("all.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        let database = GovernanceVerifyTests.path(String(url.dropFirst("sqlite:".count)), in: workspace)
        for sidecar in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + sidecar) }
        let restored = await workspace.run("restore", "--from", export, "--json")
        #expect(restored.status == 0 && restored.json?["restored"]?.integerValue == 4, "\(restored.err)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test("a missing head record is rebuilt with a warning, and a kept checkpoint still catches a deleted tail")
    func missingRecord() async throws {
        let (workspace, url) = try await Self.workspace(notes: 8)
        #expect(await workspace.run("checkpoint", "sign").status == 0)
        try FileManager.default.removeItem(atPath: "\(workspace.root)/ledger.head")
        let verified = await workspace.run("verify")
        #expect(verified.status == 0, "\(verified.err)")
        #expect(verified.err.contains("no head record"), "\(verified.err)")
        #expect(FileManager.default.fileExists(atPath: "\(workspace.root)/ledger.head"))

        try FileManager.default.removeItem(atPath: "\(workspace.root)/ledger.head")
        try await Self.deleteTail(from: 4, url, in: workspace)
        let truncated = await workspace.run("verify")
        #expect(truncated.status == 3, "\(truncated.err)")
        #expect(truncated.err.contains("4 entries") && truncated.err.contains("9"), "\(truncated.err)")
        let appended = await Self.appendNote("{\"text\":\"x\"}", in: workspace)
        #expect(appended.status != 0, "\(appended.err)")
    }

    @Test("with the head record deleted too and no checkpoint, the read tables still refuse the shorter log")
    func recordAndTailDeleted() async throws {
        let (workspace, url) = try await Self.workspace(notes: 20)
        try await Self.deleteTail(from: 15, url, in: workspace)
        try FileManager.default.removeItem(atPath: "\(workspace.root)/ledger.head")
        let appended = await Self.appendNote("{\"text\":\"after\"}", in: workspace)
        #expect(appended.status != 0, "\(appended.out)")
        #expect(appended.err.contains("read tables applied 21 entries, but the log has 15"), "\(appended.err)")
        #expect(await workspace.run("registry").status != 0)
        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.err)")
        // Reading the log is still possible, and writes no record that would vouch for the shorter log.
        #expect(await workspace.run("log").status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(workspace.root)/ledger.head"))
    }

    @Test("an edited size column of a kept checkpoint is reported by verify and refuses appends")
    func editedCheckpointColumn() async throws {
        let (workspace, url) = try await Self.workspace(notes: 6)
        #expect(await workspace.run("checkpoint", "sign").status == 0)
        try await Self.tamper(
            url,
            in: workspace,
            sqlite: "DROP TRIGGER checkpoints_no_update; UPDATE checkpoints SET tree_size = 3",
            postgres: [
                "ALTER TABLE checkpoints DISABLE TRIGGER USER", "UPDATE checkpoints SET tree_size = 3",
                "ALTER TABLE checkpoints ENABLE TRIGGER USER",
            ]
        )
        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.err)")
        #expect(verified.err.contains("checkpoints table was edited"), "\(verified.err)")
        let appended = await Self.appendNote("{\"text\":\"x\"}", in: workspace)
        #expect(appended.status != 0)
        #expect(appended.err.contains("checkpoints table was edited"), "\(appended.err)")
    }

    @Test("restore appends only what the head record holds unless --all; a refused restore leaves no empty log")
    func restoreBounds() async throws {
        let (workspace, url) = try await Self.workspace(notes: 6)
        // A longer export of the same log, as a sibling copy of the workspace could hold: made here, then the
        // record is put back to what this workspace had committed.
        let record = try Data(contentsOf: URL(fileURLWithPath: "\(workspace.root)/ledger.head"))
        for index in 0..<3 {
            let appended = await Self.appendNote("{\"text\":\"later \(index)\"}", in: workspace)
            try #require(appended.status == 0)
        }
        let longer = workspace.folder.path("longer.jsonl")
        #expect(await workspace.run("export", "--out", longer).status == 0)
        try await Self.deleteTail(from: 4, url, in: workspace)
        try record.write(to: URL(fileURLWithPath: "\(workspace.root)/ledger.head"))
        _ = await workspace.run("projections", "rebuild")

        let bounded = await workspace.run("restore", "--from", longer, "--json")
        #expect(bounded.status == 0, "\(bounded.err)")
        #expect(bounded.json?["restored"]?.integerValue == 3, "\(bounded.out)")
        #expect(bounded.json?["notRestored"]?.integerValue == 3, "\(bounded.out)")
        let all = await workspace.run("restore", "--from", longer, "--all", "--json")
        #expect(all.status == 0 && all.json?["restored"]?.integerValue == 3, "\(all.err)")
        #expect(await workspace.run("verify").status == 0)
    }

    @Test(
        "a restore refused for a bad export leaves no empty log database behind",
        .embeddedFilesOnly("removes the SQLite file")
    )
    func refusedRestoreLeavesNothing() async throws {
        let (workspace, url) = try await Self.workspace(notes: 2)
        let database = GovernanceVerifyTests.path(String(url.dropFirst("sqlite:".count)), in: workspace)
        for sidecar in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + sidecar) }
        let garbage = try workspace.folder.write("{\"not\":\"an entry\"}\n", to: "garbage.jsonl")
        let refused = await workspace.run("restore", "--from", garbage)
        #expect(refused.status == 3, "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: database))
    }

    @Test("an edited head record is refused, not trusted")
    func editedRecord() async throws {
        let (workspace, _) = try await Self.workspace(notes: 3)
        let path = "\(workspace.root)/ledger.head"
        var bytes = try #require(FileManager.default.contents(atPath: path))
        let index = try #require(bytes.firstIndex(of: UInt8(ascii: "r")))
        bytes[index + 8] ^= 0x01  // inside the root's hex
        try bytes.write(to: URL(fileURLWithPath: path))
        let verified = await workspace.run("verify")
        #expect(verified.status == 3, "\(verified.err)")
    }

    @Test("an edited type column is reported by verify at its seq and hides nothing from --type filters")
    func editedTypeColumn() async throws {
        let workspace = try await TestWorkspace.make(logID: "test.example/columns")
        let key = workspace.folder.path("extra.key")
        #expect(await ledger("keys", "generate", "--name", "extra", "--role", "approver", "--out", key).status == 0)
        let added = await workspace.run(
            "keys",
            "add",
            "--public",
            key + ".pub",
            "--name",
            "extra",
            "--role",
            "approver",
            "--key",
            workspace.adminKey
        )
        try #require(added.status == 0, "\(added.err)")
        let config = try CanonicalJSON.parse(
            try #require(FileManager.default.contents(atPath: "\(workspace.root)/ledger.json"))
        )
        let url = try #require(config["log"]?.stringValue)
        try await Self.tamper(
            url,
            in: workspace,
            sqlite: "DROP TRIGGER entries_no_update; UPDATE entries SET type = 'note.added' WHERE seq = 1",
            postgres: [
                "ALTER TABLE entries DISABLE TRIGGER USER", "UPDATE entries SET type = 'note.added' WHERE seq = 1",
                "ALTER TABLE entries ENABLE TRIGGER USER",
            ]
        )
        let verified = await workspace.run("verify", "--json")
        #expect(verified.status == 3, "\(verified.out)")
        #expect(verified.json?["seq"]?.integerValue == 1, "\(verified.out)")
        #expect(verified.json?["reason"]?.stringValue?.contains("type") == true, "\(verified.out)")

        let log = await workspace.run("log", "--type", "key.added", "--json")
        #expect(log.json?.arrayValue?.count == 1, "\(log.out) \(log.err)")
        let events = await workspace.run("events", "--type", "key.added")
        #expect(events.out.split(separator: "\n").count == 1, "\(events.out) \(events.err)")
    }
}
