import Foundation
import GRDB
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Issue 16, cases 5 (standard input and files), 7 and 8: every input is bounded and read in chunks, `-` means
/// standard output for `export --out`, names from the log are escaped before a terminal sees them, folders that hold
/// keys are 0700 whatever the umask, `reproduce` reads back the model it vouches for, and no hostile input changes
/// a byte of the log, the read tables or the artifacts.
@Suite("Hostile input")
struct HostileInputTests {
    static let eventLimit = 8 << 20

    @Test("--data @/dev/zero, a folder and a file over 8 MiB are refused, naming the limit or the folder")
    func oversizedDataFiles() async throws {
        let workspace = try await TestWorkspace.make()
        let endless = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--key",
            workspace.adminKey,
            "--data",
            "@/dev/zero"
        )
        #expect(endless.status == 1)
        #expect(
            endless.err.contains("/dev/zero: it is larger than the limit of 8 MiB (8388608 bytes) for event data"),
            "\(endless.err)"
        )
        let folder = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--key",
            workspace.adminKey,
            "--data",
            "@\(workspace.folder.path)"
        )
        #expect(folder.err.contains("it is a folder, not a file"), "\(folder.err)")

        let big = try workspace.folder.write(String(repeating: " ", count: Self.eventLimit + 1), to: "big.json")
        let tooBig = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--key",
            workspace.adminKey,
            "--data",
            "@\(big)"
        )
        #expect(tooBig.status == 1)
        #expect(tooBig.err.contains("it holds 8388609 bytes, over the limit of 8 MiB"), "\(tooBig.err)")
        let envelope = await workspace.run("append", "--envelope", big)
        #expect(envelope.status == 1, "an envelope may hold 12 MiB, but these spaces are no JSON: \(envelope.err)")
        #expect(try await workspace.size() == 1, "nothing was appended")
    }

    @Test("line-based inputs (an export, a batch) refuse a line longer than one event before reading further")
    func overlongLines() async throws {
        let workspace = try await TestWorkspace.make()
        let endless = await ledger("verify", "--from", "/dev/zero", "--trust", workspace.genesis)
        #expect(endless.status == 3, "a verdict on the export's bytes")
        #expect(
            endless.err.contains("cannot read export /dev/zero: line 1 is longer than 12 MiB (12582912 bytes)"),
            "\(endless.err)"
        )
        let line = #"{"type":"note.added","data":{"text":"ok"}}"#
        let batch = try workspace.folder.write(
            line + "\n" + String(repeating: "x", count: Self.eventLimit + 1) + "\n",
            to: "batch.jsonl"
        )
        let refused = await workspace.run("append", "--batch", batch, "--key", workspace.adminKey)
        #expect(refused.status == 1)
        #expect(refused.err.contains("line 2 is longer than 8 MiB (8388608 bytes), the most one event may be"))
        #expect(try await workspace.size() == 1, "not even the good first line was appended")
    }

    @Test(
        "--data @- from an endless standard input fails at once, in bounded memory",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func endlessStandardInput() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "append", "--type", "note.added", "--key", workspace.adminKey, "--data", "@-", "--workspace",
            workspace.root,
        ]
        process.standardInput = FileHandle(forReadingAtPath: "/dev/zero")
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            if process.isRunning { process.terminate() }
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        #expect(process.terminationStatus == 1, "it used to read until memory ran out")
        #expect(
            message.contains(
                "cannot read event data on standard input: it is larger than the limit of 8 MiB (8388608 bytes)"
            ),
            "\(message)"
        )
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test(
        "export --out - writes the log to standard output and no file named -",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func exportToStandardOutput() async throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let workspace = try await TestWorkspace.make()
        let plain = await workspace.run("export")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["export", "--out", "-", "--workspace", workspace.root]
        process.currentDirectoryURL = workspace.folder.url
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(String(decoding: bytes, as: UTF8.self) == plain.out)
        #expect(!plain.out.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: workspace.folder.path("-")))
    }

    @Test("keys list and log escape control and format characters in names from the log; --json keeps them")
    func namesAreEscaped() async throws {
        let workspace = try await TestWorkspace.make()
        let name = "evil\u{1B}[2J\u{7}\nfake line\u{202E}"
        let key = workspace.folder.path("evil.key")
        #expect(await ledger("keys", "generate", "--name", "x", "--role", "approver", "--out", key).status == 0)
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
        // The evil key signs a note whose text holds a right-to-left override and a C1 control (NEL), which
        // canonical JSON leaves as they are: `log` shows both the signer's name and the text.
        let noted = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--key",
            key,
            "--data",
            "{\"text\":\"\u{202E}gnp.exe\u{85}\"}"
        )
        try #require(noted.status == 0, "\(noted.err)")
        let escaped = #"evil\u{1b}[2J\u{7}\u{a}fake line\u{202e}"#
        for command in [["keys", "list"], ["log"]] {
            let result = await workspace.run(command)
            #expect(result.status == 0)
            #expect(result.out.contains(escaped), "\(result.out)")
            if command == ["log"] { #expect(result.out.contains(#"\u{202e}gnp.exe\u{85}"#), "\(result.out)") }
            let raw = result.out.unicodeScalars.filter {
                $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" || $0 == "\u{85}"
            }
            #expect(raw.isEmpty, "\(command) printed a control character raw")
            #expect(!result.out.contains("\nfake line"), "\(command) let a name start a line of its own")
        }
        let json = await workspace.run("keys", "list", "--json")
        #expect(json.json?.arrayValue?.contains { $0["name"]?.stringValue == name } == true, "JSON keeps the bytes")
    }

    @Test(
        "under umask 000, ledger init makes the workspace and keys/ 0700 and the keys 0600",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func privateFoldersWhateverTheUmask() throws {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let folder = try TemporaryFolder("umask")
        let existing = folder.path("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false)
        #expect(chmod(existing, 0o777) == 0)
        for root in [folder.path("new/ws"), existing] {
            let result = try runProcess(
                "/bin/sh",
                ["-c", "umask 000 && exec \"$0\" init \"$1\" --log-id umask.example/x", binary, root]
            )
            try #require(result.status == 0, "\(result.err)")
            #expect(try mode(of: root) == 0o700, "\(root)")
            #expect(try mode(of: root + "/keys") == 0o700)
            #expect(try mode(of: root + "/artifacts") == 0o755, "artifact folders are not world-writable")
            #expect(try mode(of: root + "/artifacts/sha256") == 0o755)
            for role in ["admin", "log", "pipeline", "approver", "deployer"] {
                #expect(try mode(of: root + "/keys/\(role).key") == 0o600)
            }
        }
    }

    func mode(of path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? Int)
    }

    @Test(
        "nothing lost: every hostile input leaves the log, the read tables and the artifacts byte for byte as they were",
        .embeddedFilesOnly("reads the SQLite files and the artifact folder, and corrupts an artifact")
    )
    func nothingLost() async throws {
        let workspace = try await TestWorkspace.make(logID: UnicodeIdentityTests.composed)
        let (_, extract) = try await workspace.extractDemo()
        let seq = try #require(extract["seq"]?.integerValue)
        let built = await workspace.run("dataset", "build", "--extract", String(seq), "--json")
        try #require(built.status == 0, "\(built.err)")
        let dataset = try #require(built.json?["datasetDigest"]?.stringValue)
        let trained = await workspace.run("train", "--dataset", dataset, "--json")
        try #require(trained.status == 0, "\(trained.err)")
        let model = try #require(trained.json?["artifactDigest"]?.stringValue)
        let evaluated = await workspace.run("evaluate", "--model", model, "--json")
        try #require(evaluated.json?["registered"] == "access-anomaly@1", "\(evaluated.out) \(evaluated.err)")
        #expect(await workspace.run("reproduce", "access-anomaly@1").status == 0)
        // Build the read tables now, so that a later read-only command has nothing to catch up on.
        #expect(await workspace.run("registry").status == 0)

        let before = try WorkspaceContents(workspace.root)
        #expect(before.tables.keys.contains("ledger.db/entries"), "\(before.tables.keys.sorted())")
        #expect(before.files.keys.contains { $0.hasPrefix("artifacts/sha256/") })

        let folder = workspace.folder
        let export = folder.path("log.jsonl")
        try #require(await workspace.run("export", "--out", export).status == 0)
        let exportBytes = Array(try Data(contentsOf: URL(fileURLWithPath: export)))
        let lastLeaf = try #require(exportBytes.split(separator: 0x0a).last.map(Array.init))
        var flipped = try CanonicalJSON.parse(lastLeaf)
        let signature = try #require(flipped["signatures"]?.arrayValue?.first?["sig"]?.stringValue)
        flipped = Self.replacing(signature, in: flipped, with: "A" + signature.dropFirst())
        let lookAlike = try UnicodeIdentityTests.lookAlike(after: exportBytes, workspace: workspace)
        let envelopes = [
            ("replayed", String(decoding: lastLeaf, as: UTF8.self)),
            ("bad-signature", String(decoding: try CanonicalJSON.encode(flipped), as: UTF8.self)),
            ("decomposed-log-id", String(decoding: lookAlike.canonicalBytes(), as: UTF8.self)),
            ("not-json", "{\"payloadType\":"), ("empty", ""),
        ]
        let note = ["append", "--type", "note.added", "--key", workspace.adminKey, "--data"]
        let big = try folder.write(String(repeating: "[", count: Self.eventLimit + 1), to: "big.json")
        let bom = try folder.write("\u{FEFF}{\"text\":\"bom\"}", to: "bom.json")
        let hostile: [[String]] =
            [
                note + ["@/dev/zero"], note + ["@\(big)"], note + ["@\(bom)"], note + [#"{"text":"#],
                note + [#"{"text":"a","text":"b"}"#], note + [#"{"text":"x","n":1e400}"#],
                note + [#"{"text":"\ud800"}"#], note + ["[]"], note + [#"{"text":"x"} {}"#],
                ["append", "--type", "no.such.type", "--key", workspace.adminKey, "--data", "{}"],
                ["append", "--envelope", "/dev/zero"], ["append", "--envelope", big],
                ["append", "--batch", big, "--key", workspace.adminKey],
                [
                    "keys", "add", "--public", workspace.adminKey + ".pub", "--name", "again", "--role", "admin",
                    "--key",
                    workspace.adminKey,
                ],
                ["keys", "revoke", "0123456789abcdef", "--reason", "none such", "--key", workspace.adminKey],
                [
                    "approve", "access-anomaly@1", "--reason", "self-approval", "--key",
                    workspace.root + "/keys/pipeline.key",
                ],
                [
                    "approve", "acce\u{301}ss-anomaly@1", "--reason", "look-alike", "--key",
                    workspace.root + "/keys/approver.key",
                ],
                [
                    "deploy", "access-anomaly@1", "--target", "production", "--key",
                    workspace.root + "/keys/deployer.key",
                ],
                ["reproduce", "access-anomaly@99"], ["verify", "--from", "/dev/zero", "--trust", workspace.genesis],
                ["policy", "set", big, "--key", workspace.adminKey],
            ]
            + (try envelopes.map { name, text in ["append", "--envelope", try folder.write(text, to: "\(name).json")] })
        if let binary = ExternalTools.ledgerBinary {
            // An endless standard input, through the real process.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = note + ["@-", "--workspace", workspace.root]
            process.standardInput = FileHandle(forReadingAtPath: "/dev/zero")
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 1)
            #expect(try WorkspaceContents(workspace.root) == before, "after --data @- from /dev/zero")
        }
        for arguments in hostile {
            let result = await workspace.run(arguments)
            #expect(result.status != 0, "\(arguments.joined(separator: " ").prefix(200)) was accepted")
            #expect(
                try WorkspaceContents(workspace.root) == before,
                "after \(arguments.joined(separator: " ").prefix(200))"
            )
        }

        // The registered model's file, damaged: reproduce names it (it used to print `identical`), and changes nothing.
        let hex = String(model.dropFirst("sha256:".count))
        let modelPath = workspace.root + "/artifacts/sha256/\(hex.prefix(2))/\(hex)"
        let original = try Data(contentsOf: URL(fileURLWithPath: modelPath))
        var damaged = original
        damaged[damaged.count / 2] ^= 0x10
        try damaged.write(to: URL(fileURLWithPath: modelPath))
        let reproduced = await workspace.run("reproduce", "access-anomaly@1")
        #expect(reproduced.status == 3)
        #expect(reproduced.out.contains("differs    model artifact: artifact \(model) is corrupt"), "\(reproduced.out)")
        #expect(reproduced.out.hasSuffix("access-anomaly@1 does NOT reproduce\n"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: modelPath)) == damaged, "reproduce repairs nothing")
        try FileManager.default.removeItem(atPath: modelPath)
        let missing = await workspace.run("reproduce", "access-anomaly@1", "--json")
        #expect(missing.status == 3)
        let failed = missing.json?["checks"]?.arrayValue?.filter { $0["outcome"] == "differs" }
        #expect(failed?.map { $0["step"] } == ["model artifact"], "\(missing.out)")
        #expect(failed?.first?["detail"]?.stringValue == "\(model) is missing from the artifact store")
        try original.write(to: URL(fileURLWithPath: modelPath))

        #expect(try WorkspaceContents(workspace.root) == before)
        #expect(await workspace.run("verify").status == 0)
        #expect(await workspace.run("reproduce", "access-anomaly@1").status == 0)
    }

    /// `value` with the string `old` replaced by `new` wherever it occurs.
    static func replacing(_ old: String, in value: JSONValue, with new: String) -> JSONValue {
        switch value {
        case .string(let text): return .string(text == old ? new : text)
        case .array(let items): return .array(items.map { replacing(old, in: $0, with: new) })
        case .object(let members): return .object(members.mapValues { replacing(old, in: $0, with: new) })
        default: return value
        }
    }
}

/// What "nothing lost" compares: the SHA-256 of every file of a workspace, SQLite files aside, and the rows of every
/// table of its SQLite databases (the log and the read tables), which stay the same when only a page layout, the
/// WAL or a checkpoint of it changes.
struct WorkspaceContents: Equatable {
    var files: [String: String] = [:]
    var tables: [String: [String]] = [:]

    init(_ root: String) throws {
        let manager = FileManager.default
        for path in try manager.subpathsOfDirectory(atPath: root).sorted() {
            let full = root + "/" + path
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: full, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            if path.hasSuffix(".db") {
                try readTables(of: full, as: path)
            } else if !["-wal", "-shm", "-journal"].contains(where: path.hasSuffix) {
                files[path] = Hash256.sha256(try Data(contentsOf: URL(fileURLWithPath: full))).hex
            }
        }
    }

    private mutating func readTables(of path: String, as name: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? database.close() }
        try database.read { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            for table in names {
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { row in
                    row.databaseValues.map { value -> String in
                        switch value.storage {
                        case .null: "null"
                        case .int64(let number): "\(number)"
                        case .double(let number): "\(number)"
                        case .string(let text): "'\(text)'"
                        case .blob(let bytes): "x'\(bytes.map { String(format: "%02x", $0) }.joined())'"
                        }
                    }.joined(separator: ",")
                }
                tables["\(name)/\(table)"] = rows.sorted()
            }
        }
    }
}
