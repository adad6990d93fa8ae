import ArgumentParser
import Foundation
import LedgerCLI
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

@Suite("CLI end to end")
struct EndToEndTests {
    @Test("init prints the documented JSON and writes keys with mode 0600")
    func initJSON() async throws {
        let workspace = try await TestWorkspace.make()
        for role in ["admin", "log", "pipeline", "approver", "deployer"] {
            let key = "\(workspace.root)/keys/\(role).key"
            let mode = try #require(FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
        }
        let again = await ledger("init", workspace.folder.path("second"), "--json")
        let keys = Set(try #require(again.json?.objectValue).keys)
        let documented: Set<String> = [
            "workspace", "logId", "genesis", "adminKeyId", "adminKeyFile", "logKeyId", "logKeyFile",
        ]
        #expect(documented.isSubset(of: keys))
        #expect(
            keys.subtracting(documented) == [
                "pipelineKeyId", "pipelineKeyFile", "approverKeyId", "approverKeyFile", "deployerKeyId",
                "deployerKeyFile",
            ]
        )
        let list = await workspace.run("keys", "list", "--json")
        let records = try #require(list.json?.arrayValue)
        #expect(records.map { $0["name"]?.stringValue } == ["admin", "log", "pipeline", "approver", "deployer"])
        #expect(records.map { $0["roles"] } == [["admin"], ["log"], ["pipeline"], ["approver"], ["deployer"]])
        #expect(records.first?["roles"] == ["admin"])
    }

    @Test("keys: generate, add, list, revoke; a revoked key can no longer append")
    func keyLifecycle() async throws {
        let workspace = try await TestWorkspace.make()
        let keyFile = workspace.folder.path("alice.key")
        let generated = await ledger(
            "keys",
            "generate",
            "--name",
            "alice",
            "--role",
            "pipeline",
            "--out",
            keyFile,
            "--json"
        )
        let keyID = try #require(generated.json?["keyid"]?.stringValue)
        let publicHex = try #require(generated.json?["publicKey"]?.stringValue)
        #expect(Hash256.sha256(try #require(Hex.decode(publicHex))).hex == keyID)
        let added = await workspace.run(
            "keys",
            "add",
            "--public",
            publicHex,
            "--name",
            "alice",
            "--role",
            "pipeline",
            "--key",
            workspace.adminKey
        )
        #expect(added.status == 0, "\(added.err)")
        let note = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"hi\"}",
            "--key",
            keyFile
        )
        #expect(note.status == 0, "\(note.err)")
        let revoked = await workspace.run(
            "keys",
            "revoke",
            String(keyID.prefix(10)),
            "--reason",
            "left the team",
            "--key",
            workspace.adminKey
        )
        #expect(revoked.status == 0, "\(revoked.err)")
        let late = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"late\"}",
            "--key",
            keyFile
        )
        #expect(late.status == 1)
        #expect(late.err.contains("revoked at seq 3"))
        let list = await workspace.run("keys", "list", "--json")
        #expect(list.json?.arrayValue?.last?["status"] == "revoked")
        let verify = await workspace.run("verify", "--json")
        #expect(verify.status == 0)
        #expect(verify.json?["types"]?["key.revoked"] == 1)
    }

    @Test("append with subjects, data from a file, a batch; log filters; export lines are the leaves")
    func appendLogExport() async throws {
        let workspace = try await TestWorkspace.make()
        let digest = Hash256.sha256(Array("model".utf8)).hex
        let dataFile = try workspace.folder.write("{\"text\":\"from a file\",\"refs\":[0]}", to: "note.json")
        let appended = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "@\(dataFile)",
            "--subject",
            "model=sha256:\(digest)",
            "--key",
            workspace.adminKey,
            "--json"
        )
        #expect(appended.status == 0, "\(appended.err)")
        #expect(
            appended.json?.arrayValue?.first?["subject"]?.arrayValue?.first?["digest"]?["sha256"]?.stringValue == digest
        )
        let batch = try workspace.folder.write(
            (0..<5).map { "{\"type\":\"note.added\",\"data\":{\"text\":\"n\($0)\"}}" }.joined(separator: "\n") + "\n",
            to: "batch.jsonl"
        )
        #expect(await workspace.run("append", "--batch", batch, "--atomic", "--key", workspace.adminKey).status == 0)
        let filtered = await workspace.run("log", "--type", "note.added", "--after", "2", "--limit", "2", "--json")
        #expect(filtered.json?.arrayValue?.compactMap { $0["seq"]?.integerValue } == [3, 4])

        let exportPath = workspace.folder.path("log.jsonl")
        #expect(await workspace.run("export", "--out", exportPath).status == 0)
        let lines = try String(contentsOfFile: exportPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 7)
        for line in lines {
            #expect(Array(line.utf8) == (try CanonicalJSON.canonicalize(Array(line.utf8))))
        }
        let verified = await ledger("verify", "--from", exportPath, "--trust", workspace.genesis, "--json")
        #expect(verified.status == 0, "\(verified.out)")
        let root = MerkleTree.root(of: lines.map { MerkleTree.leafHash(Array($0.utf8)) })
        #expect(verified.json?["root"]?.stringValue == root.hex)
    }

    @Test("verify --from reports each attack on an export with the right seq and exits 3")
    func verifyAttacksOnExport() async throws {
        let workspace = try await TestWorkspace.make()
        for index in 0..<4 {
            _ = await workspace.run(
                "append",
                "--type",
                "note.added",
                "--data",
                "{\"text\":\"n\(index)\"}",
                "--key",
                workspace.adminKey
            )
        }
        let exportPath = workspace.folder.path("log.jsonl")
        _ = await workspace.run("export", "--out", exportPath)
        let checkpointPath = workspace.folder.path("cp.txt")
        #expect(await workspace.run("checkpoint", "--out", checkpointPath).status == 0)
        var lines = try String(contentsOfFile: exportPath, encoding: .utf8).split(separator: "\n").map(String.init)

        func verify(_ lines: [String], _ extra: [String] = []) async throws -> CLIResult {
            let path = try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: "attack.jsonl")
            return await ledger(["verify", "--from", path, "--trust", workspace.genesis, "--json"] + extra)
        }
        var swapped = lines
        swapped.swapAt(2, 3)
        let swappedResult = try await verify(swapped)
        #expect(swappedResult.status == 3)
        #expect(swappedResult.json?["seq"] == 2)
        #expect(swappedResult.json?["code"] == "chain.sequence")

        let truncated = try await verify(Array(lines.prefix(3)), ["--checkpoint", checkpointPath])
        #expect(truncated.status == 3)
        #expect(truncated.json?["seq"] == 3)
        #expect(truncated.json?["code"] == "chain.checkpoint")

        var envelope = try Envelope(jsonBytes: Array(lines[1].utf8))
        envelope.signatures[0].signature[7] ^= 0x10
        lines[1] = String(decoding: envelope.canonicalBytes(), as: UTF8.self)
        let broken = try await verify(lines)
        #expect(broken.status == 3)
        #expect(broken.json?["seq"] == 1)
        #expect(broken.json?["code"] == "event.badSignature")
        var garbled = lines
        garbled[1] = garbled[1].replacingOccurrences(of: "\"sig\":\"", with: "\"sig\":\"A")
        let garbledResult = try await verify(garbled)
        #expect(garbledResult.status == 3)
        #expect(garbledResult.json?["seq"] == 1)
        let untrusted = await ledger(
            "verify",
            "--from",
            try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: "u.jsonl")
        )
        #expect(untrusted.status == 2, "--from without --trust is a usage error")
        let human = await ledger(
            "verify",
            "--from",
            try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: "h.jsonl"),
            "--untrusted"
        )
        #expect(human.status == 3)
        #expect(human.err.hasPrefix("error: verification failed at seq 1: "))
    }

    @Test("checkpoints: sign, keep, verify; a checkpoint from another log is refused")
    func checkpoints() async throws {
        let workspace = try await TestWorkspace.make()
        let path = workspace.folder.path("cp.txt")
        #expect(await workspace.run("checkpoint", "--out", path).status == 0)
        let note = try String(contentsOfFile: path, encoding: .utf8)
        #expect(note.hasPrefix("\(workspace.logID)\n1\n"))
        #expect(note.contains("\n\n— \(workspace.logID) "))
        let verified = await workspace.run("checkpoint", "verify", path, "--json")
        #expect(verified.status == 0, "\(verified.err)")
        #expect(verified.json?["size"] == 1)
        _ = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"x\"}",
            "--key",
            workspace.adminKey
        )
        #expect(await workspace.run("checkpoint", "verify", path).status == 0)
        #expect(await workspace.run("verify", "--json").json?["checkpoints"] == 1)

        let other = try await TestWorkspace.make(logID: "other.example/log")
        let foreign = await other.run("checkpoint", "verify", path, "--json")
        #expect(foreign.status == 3)
        #expect(foreign.json?["ok"] == false, "--json answers in JSON even when verification fails")
        #expect(foreign.json?["code"] == "chain.checkpoint")
        let tampered = try workspace.folder.write(note.replacingOccurrences(of: "\n1\n", with: "\n2\n"), to: "bad.txt")
        #expect(await workspace.run("checkpoint", "verify", tampered).status == 3)
        #expect(await workspace.run("checkpoint", "--key", workspace.adminKey).status == 1)
    }

    @Test("proofs: inclusion and consistency verify, and every corrupted twin is rejected")
    func proofs() async throws {
        let workspace = try await TestWorkspace.make()
        let batch = try workspace.folder.write(
            (0..<12).map { "{\"type\":\"note.added\",\"data\":{\"text\":\"n\($0)\"}}" }.joined(separator: "\n"),
            to: "batch.jsonl"
        )
        #expect(await workspace.run("append", "--batch", batch, "--atomic", "--key", workspace.adminKey).status == 0)
        let inclusion = await workspace.run("prove", "inclusion", "5", "--size", "11", "--json")
        let consistency = await workspace.run("prove", "consistency", "6", "13", "--json")
        for proof in [inclusion, consistency] {
            #expect(proof.status == 0, "\(proof.err)")
            let document = try #require(proof.json?.objectValue)
            let path = try workspace.folder.write(proof.out, to: "proof.json")
            #expect(await ledger("prove", "verify", path).status == 0)
            let hashes = try #require(document["proof"]?.arrayValue)
            var twins: [JSONObject] = []
            for index in hashes.indices {
                var flipped = hashes
                let hex = try #require(hashes[index].stringValue)
                flipped[index] = .string(String(hex.prefix(63)) + (hex.hasSuffix("0") ? "1" : "0"))
                twins.append(document.merging(["proof": .array(flipped)]) { $1 })
            }
            twins.append(document.merging(["proof": .array(Array(hashes.dropLast()))]) { $1 })
            twins.append(document.merging(["proof": .array(hashes + [hashes[0]])]) { $1 })
            if hashes.count > 1 { twins.append(document.merging(["proof": .array(hashes.reversed())]) { $1 }) }
            if document["type"] == "inclusion" {
                twins.append(document.merging(["seq": 4]) { $1 })
                twins.append(document.merging(["size": 6]) { $1 })
                twins.append(document.merging(["leafHash": document["root"] ?? .null]) { $1 })
            } else {
                twins.append(
                    document.merging(["fromRoot": document["toRoot"] ?? .null, "toRoot": document["fromRoot"] ?? .null])
                    { $1 }
                )
                twins.append(document.merging(["from": 5]) { $1 })
            }
            for twin in twins {
                let twinPath = try workspace.folder.write(
                    String(decoding: try CanonicalJSON.encode(.object(twin)), as: UTF8.self),
                    to: "twin.json"
                )
                let result = await ledger("prove", "verify", twinPath)
                #expect(result.status == 3, "a corrupted proof was accepted: \(twin)")
            }
        }
        #expect(await workspace.run("prove", "inclusion", "20").status == 1)

        // An offline auditor ties a proof to a signed checkpoint with only the log's public key.
        let checkpointPath = workspace.folder.path("cp-13.txt")
        #expect(await workspace.run("checkpoint", "--out", checkpointPath).status == 0)
        let latest = try workspace.folder.write(
            await workspace.run("prove", "inclusion", "5", "--json").out,
            to: "p13.json"
        )
        let older = try workspace.folder.write(inclusion.out, to: "p11.json")
        let logKey = workspace.logKey + ".pub"
        let authenticated = await ledger(
            "prove",
            "verify",
            latest,
            "--checkpoint",
            checkpointPath,
            "--log-key",
            logKey,
            "--json"
        )
        #expect(authenticated.status == 0, "\(authenticated.err)")
        #expect(authenticated.json?["authenticated"] == true)
        let otherTree = await ledger("prove", "verify", older, "--checkpoint", checkpointPath, "--log-key", logKey)
        #expect(otherTree.status == 3, "a proof about another tree than the checkpoint's")
        let wrongKey = await ledger(
            "prove",
            "verify",
            latest,
            "--checkpoint",
            checkpointPath,
            "--log-key",
            workspace.adminKey + ".pub"
        )
        #expect(wrongKey.status == 3, "a checkpoint checked with the wrong key")
        #expect(await ledger("prove", "verify", latest).out.contains("roots not authenticated"))
    }

    @Test("every command's --help shows an example")
    func helpHasExamples() async throws {
        // Every command in the tree, found from the root, so that a new command cannot be left out.
        func paths(_ command: any ParsableCommand.Type, _ path: [String]) -> [[String]] {
            [path]
                + command.configuration.subcommands.flatMap { sub in
                    paths(sub, path + [sub.configuration.commandName ?? ""])
                }
        }
        let commands = paths(LedgerCommand.self, [])
        #expect(commands.count > 50, "\(commands.count) commands")
        #expect(commands.contains(["bench", "projections"]) && commands.contains(["projections", "rebuild"]))
        for command in commands {
            let result = await ledger(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.out.contains("Example"), "`ledger \(command.joined(separator: " ")) --help` has no example")
        }
    }

    @Test("init --help, word for word")
    func initHelp() async throws {
        let result = await ledger("init", "--help")
        #expect(
            result.out == """
                OVERVIEW: Create a workspace: config, log (SQLite or PostgreSQL), a key per
                role, and the genesis event.

                Writes DIR/ledger.json, the log (DIR/ledger.db by default) and one key per role
                in DIR/keys/ (admin, log, pipeline, approver and deployer; PKCS#8 PEM, mode
                0600, with .pub files beside them; DIR and DIR/keys/ are set to mode 0700
                whatever the umask), then signs the genesis event `ledger.created`, which
                registers each key with its role, with the admin key. It prints the trust
                anchor: the genesis leaf hash. Keep it somewhere safe; `ledger verify --trust
                HASH` proves a log is the one you created. ledger.json holds the defaults of
                every setting, to edit; --source sets the pipeline's Audit DB.

                --store puts the log in PostgreSQL instead: one shared log for many processes
                and hosts, with its projections in the same schema (the password comes from
                PGPASSWORD, never from ledger.json). --artifacts puts the data lake in
                S3-compatible storage (credentials from AWS_ACCESS_KEY_ID and
                AWS_SECRET_ACCESS_KEY). To work on the same log from another machine, copy
                ledger.json and the key files it needs.

                Example:
                  ledger init ./ws --log-id example.org/fraud-models
                  ledger init ./ws --store 'postgres://ledger@db/ledger?schema=fraud' \\
                                   --artifacts 's3://lake/ledger?region=eu-west-1'
                  ledger init ./ws --source sqlite:/data/audit.db
                  ledger init ./ws --source postgres://ledger@db.example.org/audit

                USAGE: ledger init [<directory>] [--log-id <ORIGIN>] [--source <SOURCE>] [--store <URL>] [--artifacts <URL>] [--json]

                ARGUMENTS:
                  <directory>             The folder to create the workspace in. (default: .)

                OPTIONS:
                  --log-id <ORIGIN>       The log's origin: a short, URL-like name with no
                                          spaces or '+'.
                  --source <SOURCE>       The Audit DB that `ledger run` and `ledger schedule`
                                          read: sqlite:PATH (a relative path is from DIR) or
                                          postgres://USER@HOST[:PORT]/DATABASE (the password
                                          from PGPASSWORD).
                  --store <URL>           Where the log lives: sqlite:PATH (default
                                          sqlite:ledger.db, relative to DIR) or
                                          postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]
                                          (the password from PGPASSWORD). (default:
                                          sqlite:ledger.db)
                  --artifacts <URL>       Where artifacts live: file:PATH (default
                                          file:artifacts, relative to DIR) or
                                          s3://BUCKET/PREFIX?endpoint=URL&region=REGION.
                                          (default: file:artifacts)
                  --json                  Print the result as JSON.
                  --version               Show the version.
                  -h, --help              Show help information.


                """
        )
    }

    @Test("run --help, word for word")
    func runHelp() async throws {
        let result = await ledger("run", "--help")
        #expect(
            result.out == """
                OVERVIEW: Run the pipeline for a window: extract, dataset, drift, train,
                evaluate, register.

                One run per window: the run id is the model name and the window
                (access-anomaly/2026-03-02..2026-03-09), so triggering a window whose run
                completed does nothing and says so. Each step appends one event signed with the
                pipeline key and naming the run: data.extracted (the window plus the 14 days
                before it, which the features' history needs), dataset.built (one row per actor
                and hour of the window, the last holdoutPercent of it the holdout),
                drift.measured (against the training data of the model serving the target;
                skipped while nothing is deployed), model.trained, model.evaluated against that
                champion, and model.registered if the policy's gate passes. run.completed ends
                it.

                A transient failure (the store or the Audit DB unreachable, an external trainer
                that died) is retried with jittered exponential backoff, "pipeline": {"retry":
                …} in ledger.json; every failed attempt appends step.failed, and giving up
                appends run.failed. After a crash, `ledger run --resume RUN` or the next
                `ledger run` (which resumes unfinished runs first) finishes the run without
                repeating a completed step, against the champion recorded when it started. A
                run resumes only with the configuration and code version it started with;
                otherwise end it with --abandon and run the window again with --rerun. A window
                that has not ended yet cannot run. One run at a time: a second `ledger run` in
                the workspace refuses, or waits with --wait.

                The window defaults to the one the schedule ("pipeline": {"schedule": "0 3 * *
                1", "windowDays": 7}) last fired for: on a Thursday, the week from the Monday
                before last to last Monday. The Audit DB (--source, a SQLite file or a
                PostgreSQL database) defaults to "pipeline": {"source": "sqlite:PATH"} in
                ledger.json. Exits 1 if the run failed.

                Example:
                  ledger run --window 2026-03-02..2026-03-09 --source sqlite:audit.db
                  ledger run --resume access-anomaly/2026-03-02..2026-03-09 --json
                  ledger run --abandon access-anomaly/2026-03-02..2026-03-09

                USAGE: ledger run [--workspace <DIR>] [--window <FROM..TO>] [--source <SOURCE>] [--trigger <TRIGGER>] [--resume <RUN>] [--abandon <RUN>] [--reason <TEXT>] [--rerun] [--wait <SECONDS>] [--threads <N>] [--json]

                OPTIONS:
                  --workspace <DIR>       The workspace folder (default: the current folder or
                                          its nearest parent with ledger.json).
                  --window <FROM..TO>     The window to run: FROM..TO, dates or RFC 3339 UTC
                                          times.
                  --source <SOURCE>       The Audit DB, sqlite:PATH or
                                          postgres://USER@HOST[:PORT]/DATABASE (default:
                                          ledger.json's pipeline.source).
                  --trigger <TRIGGER>     Why the run starts: manual, schedule or drift.
                                          (default: manual)
                  --resume <RUN>          Finish this open run instead of starting one.
                  --abandon <RUN>         End this open run with run.failed (say why with
                                          --reason), so that --rerun can run its window again.
                  --reason <TEXT>         Why the run is abandoned (with --abandon). (default:
                                          abandoned by the operator)
                  --rerun                 Start a new run (…#2) for a window whose run failed.
                  --wait <SECONDS>        Seconds to wait for another run to finish; 0 refuses
                                          at once. (default: 0.0)
                  --threads <N>           Threads for training and scoring; results never
                                          depend on it. (default: 1)
                  --json                  Print {"runs":
                                          [{"run","disposition","status","steps","registered",…}]}
                                          as JSON.
                  --version               Show the version.
                  -h, --help              Show help information.


                """
        )
    }
}
