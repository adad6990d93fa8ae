import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import LedgerWorkspace
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A witness folder made by `ledger witness init --json`.
struct TestWitnessFolder {
    let path: String
    let vkey: String

    static func make(
        in folder: TemporaryFolder,
        name: String = "witness.test/w1",
        logs: [String]
    ) async throws
        -> TestWitnessFolder
    {
        let path = folder.path("witness-" + UUID().uuidString.prefix(8))
        let result = await ledger(
            ["witness", "init", path, "--name", name, "--json"] + logs.flatMap { ["--log", $0] }
        )
        try #require(result.status == 0, "witness init failed: \(result.err)")
        return TestWitnessFolder(path: path, vkey: try #require(result.json?["vkey"]?.stringValue))
    }

    var verifier: CosignatureVerifier { get throws { try CosignatureVerifier(verifierKey: vkey) } }
}

extension TestWorkspace {
    /// The log key's vkey: the origin as its name.
    func logVerifierKey() throws -> String {
        let key = try KeyFiles.loadPrivateKey(logKey)
        return try NoteVerifier(name: logID, publicKey: key.publicKey.rawRepresentation).verifierKey
    }

    func appendNotes(_ count: Int) async throws {
        for index in 0..<count {
            let result = await run(
                "append",
                "--type",
                "note.added",
                "--data",
                "{\"text\":\"note \(index)\"}",
                "--key",
                adminKey
            )
            try #require(result.status == 0, "\(result.err)")
        }
    }
}

@Suite("ledger witness")
struct WitnessCommandTests {
    @Test func initWritesAPrivateKeyAndPrintsTheCosignerVkey() async throws {
        let workspace = try await TestWorkspace.make()
        let witness = try await TestWitnessFolder.make(in: workspace.folder, logs: [try workspace.logVerifierKey()])
        let verifier = try witness.verifier
        #expect(verifier.name == "witness.test/w1")
        var status = stat()
        #expect(stat(witness.path + "/witness.key", &status) == 0 && status.st_mode & 0o777 == 0o600)
        let vkey = await ledger("witness", "vkey", witness.path)
        #expect(vkey.status == 0 && vkey.out == witness.vkey + "\n")
        let json = await ledger("witness", "vkey", witness.path, "--json")
        #expect(json.json?["name"] == "witness.test/w1" && json.json?["vkey"]?.stringValue == witness.vkey)
        // A second init in the same folder is refused and changes nothing.
        let again = await ledger("witness", "init", witness.path, "--name", "witness.test/w2")
        #expect(again.status == 1 && again.err.contains("already holds a witness"), "\(again.err)")
        #expect(await ledger("witness", "vkey", witness.path).out == witness.vkey + "\n")
        // Bad names and keys are usage errors.
        #expect(await ledger("witness", "init", workspace.folder.path("w3"), "--name", "has space").status == 2)
        #expect(
            await ledger("witness", "init", workspace.folder.path("w4"), "--name", "w", "--log", "nope").status == 2
        )
        #expect(await ledger("witness", "vkey", workspace.folder.path("missing")).status == 1)
    }

    @Test func addLogTrustsAnotherLog() async throws {
        let workspace = try await TestWorkspace.make()
        let witness = try await TestWitnessFolder.make(in: workspace.folder, logs: [])
        let vkey = try workspace.logVerifierKey()
        let added = await ledger("witness", "add-log", witness.path, "--log", vkey, "--json")
        #expect(added.status == 0 && added.json?["added"] == [.string(vkey)], "\(added.err)")
        let again = await ledger("witness", "add-log", witness.path, "--log", vkey, "--json")
        #expect(again.json?["alreadyTrusted"] == [.string(vkey)])
    }

    @Test func theAirGappedFlowCosignsWithFiles() async throws {
        let workspace = try await TestWorkspace.make()
        try await workspace.appendNotes(3)
        let witness = try await TestWitnessFolder.make(in: workspace.folder, logs: [try workspace.logVerifierKey()])
        let request = workspace.folder.path("request.txt")
        let response = workspace.folder.path("response.txt")

        // 1. The log writes the request; nothing is kept yet.
        let asked = await workspace.run("checkpoint", "--witness", "\(request)=\(witness.vkey)", "--json")
        #expect(asked.status == 0, "\(asked.err)")
        #expect(asked.json?["witnesses"]?.arrayValue?.first?["outcome"] == "requestWritten")
        #expect(asked.json?["kept"] == false)
        // 2. The witness cosigns from the file.
        let cosigned = await ledger(
            "witness",
            "cosign",
            witness.path,
            "--request",
            request,
            "--out",
            response,
            "--json"
        )
        #expect(cosigned.status == 0 && cosigned.json?["outcome"] == "cosigned", "\(cosigned.err)")
        // 3. The log reads the response and keeps the cosigned checkpoint.
        let done = await workspace.run("checkpoint", "--witness", "\(response)=\(witness.vkey)", "--json")
        #expect(done.status == 0, "\(done.err)")
        #expect(done.json?["kept"] == true)
        let note = try SignedNote.parse(try #require(done.json?["note"]?.stringValue))
        #expect(note.signatures.contains { (try? witness.verifier.timestamp(of: $0, on: note.text)) != nil })

        // The same request again: the witness has moved on, 409, exit 1 with the size.
        let replay = await ledger("witness", "cosign", witness.path, "--request", request, "--out", response, "--json")
        #expect(replay.status == 1 && replay.json?["latestSize"] != nil, "\(replay.out)")

        // --checkpoint with --proof: a proof file holds the old line (and here no hashes: the same size).
        let checkpoint = workspace.folder.path("cp.txt")
        try note.serialized.write(toFile: checkpoint, atomically: true, encoding: .utf8)
        let proof = workspace.folder.path("proof.txt")
        try "old \(try Checkpoint(text: note.text).size)\n".write(toFile: proof, atomically: true, encoding: .utf8)
        let same = await ledger(
            "witness",
            "cosign",
            witness.path,
            "--checkpoint",
            checkpoint,
            "--proof",
            proof,
            "--out",
            response
        )
        #expect(same.status == 0, "\(same.err)")
        // A checkpoint whose root was changed under the log's signature: exit 3.
        let signedSize = try Checkpoint(text: note.text).size
        let forged = note.serialized.replacingOccurrences(of: "\n\(signedSize)\n", with: "\n\(signedSize + 1)\n")
        #expect(forged != note.serialized)
        try forged.write(toFile: checkpoint, atomically: true, encoding: .utf8)
        let refused = await ledger(
            "witness",
            "cosign",
            witness.path,
            "--checkpoint",
            checkpoint,
            "--proof",
            proof,
            "--out",
            response
        )
        #expect(refused.status == 3, "\(refused.err)")
        // Neither --request nor --checkpoint: usage.
        #expect(await ledger("witness", "cosign", witness.path, "--out", response).status == 2)
    }

    @Test func aResponseFromAnotherWitnessIsRefused() async throws {
        let workspace = try await TestWorkspace.make()
        let witness = try await TestWitnessFolder.make(in: workspace.folder, logs: [try workspace.logVerifierKey()])
        let other = try await TestWitnessFolder.make(in: workspace.folder, name: "witness.test/w2", logs: [])
        let request = workspace.folder.path("request.txt")
        let response = workspace.folder.path("response.txt")
        _ = await workspace.run("checkpoint", "--witness", "\(request)=\(witness.vkey)")
        _ = await ledger("witness", "cosign", witness.path, "--request", request, "--out", response)
        let wrong = await workspace.run("checkpoint", "--witness", "\(response)=\(other.vkey)", "--json")
        #expect(wrong.status == 1)
        #expect(wrong.json?["witnesses"]?.arrayValue?.first?["outcome"] == "refused")
        #expect(wrong.json?["kept"] == false)
        // A file without a vkey is a usage error.
        #expect(await workspace.run("checkpoint", "--witness", response).status == 2)
    }

    @Test(
        "checkpoint --witness URL gets a verified cosignature from `ledger witness serve`, and a fork of the log is refused",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required),
        .embeddedFilesOnly("a copied workspace forks only an embedded log")
    )
    func checkpointAgainstAServedWitness() async throws {
        let workspace = try await TestWorkspace.make()
        try await workspace.appendNotes(2)
        let witness = try await TestWitnessFolder.make(in: workspace.folder, logs: [try workspace.logVerifierKey()])
        let served = try await WitnessProcess.start(witness.path, in: workspace.folder)
        defer { served.stop() }
        let url = "http://127.0.0.1:\(served.port)"

        let first = await workspace.run("checkpoint", "--witness", "\(url)=\(witness.vkey)", "--json")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.json?["kept"] == true)
        let report = try #require(first.json?["witnesses"]?.arrayValue?.first)
        #expect(report["outcome"] == "cosigned" && report["verified"] == true)

        // The log grows; the next request carries a proof from the size the witness cosigned.
        try await workspace.appendNotes(3)
        let second = await workspace.run("checkpoint", "--witness", "\(url)=\(witness.vkey)", "--json")
        #expect(second.status == 0, "\(second.err)")
        #expect(second.json?["witnesses"]?.arrayValue?.first?["oldSize"] == first.json?["size"])
        let size = try #require(second.json?["size"]?.integerValue)

        // The monitoring endpoint serves it with the log's signature and the cosignature.
        let origin = Hash256.sha256(Array(workspace.logID.utf8)).hex
        let (status, body, _) = try await served.request("GET", "/\(origin)/checkpoint")
        #expect(status == 200)
        let monitored = try SignedNote.parse(body)
        #expect(try Checkpoint(text: monitored.text).size == UInt64(size))
        #expect(monitored.signatures.contains { (try? witness.verifier.timestamp(of: $0, on: monitored.text)) != nil })

        // A copy of the workspace (same origin, same log key) diverging from here: a split view.
        let fork = TestWorkspace(
            folder: workspace.folder,
            root: workspace.folder.path("fork"),
            genesis: workspace.genesis,
            adminKey: workspace.adminKey,
            logKey: workspace.logKey,
            logID: workspace.logID
        )
        try FileManager.default.copyItem(atPath: workspace.root, toPath: fork.root)
        try await workspace.appendNotes(1)
        let honest = await workspace.run("checkpoint", "--witness", "\(url)=\(witness.vkey)", "--json")
        #expect(honest.status == 0, "\(honest.err)")
        let forkAppend = await fork.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"forked\"}",
            "--key",
            fork.adminKey
        )
        #expect(forkAppend.status == 0, "\(forkAppend.err)")
        let forked = await fork.run("checkpoint", "--witness", "\(url)=\(witness.vkey)", "--json")
        #expect(forked.status == 1)
        let refusal = try #require(forked.json?["witnesses"]?.arrayValue?.first)
        #expect(refusal["outcome"] == "refused")
        #expect(refusal["detail"]?.stringValue?.hasPrefix("HTTP 422") == true, "\(refusal)")
        #expect(forked.json?["kept"] == false)

        // A log the witness does not know: 404; a witness that is not there: unreachable.
        let stranger = try await TestWorkspace.make(logID: "test.example/stranger")
        let unknown = await stranger.run("checkpoint", "--witness", url, "--json")
        #expect(unknown.json?["witnesses"]?.arrayValue?.first?["detail"]?.stringValue?.hasPrefix("HTTP 404") == true)
        let (holder, closedPort) = try RawSocket.listener()
        holder.hangUp()
        let gone = await workspace.run("checkpoint", "--witness", "http://127.0.0.1:\(closedPort)", "--json")
        #expect(gone.status == 1)
        #expect(gone.json?["witnesses"]?.arrayValue?.first?["outcome"] == "unreachable")
    }

    @Test(
        "witness serve answers every add-checkpoint status over HTTP, 409 as text/x.tlog.size",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func servedStatuses() async throws {
        let folder = try TemporaryFolder()
        let log = try NoteVerifier(name: "example.test/log", publicKey: TestKeys.log.publicKey.rawRepresentation)
        let witness = try await TestWitnessFolder.make(in: folder, logs: [log.verifierKey])
        let served = try await WitnessProcess.start(witness.path, in: folder)
        defer { served.stop() }
        let leaves = (0..<20).map { MerkleTree.leafHash(Array("leaf-\($0)".utf8)) }
        func body(
            old: Int,
            size: Int,
            key: SigningKey = TestKeys.log,
            origin: String = "example.test/log"
        ) throws -> [UInt8] {
            let checkpoint = Checkpoint(
                origin: origin,
                size: UInt64(size),
                root: MerkleTree.root(of: leaves.prefix(size))
            )
            var note = SignedNote(text: checkpoint.text, signatures: [])
            try note.addSignature(by: try NoteSigner(name: origin, privateKey: key.cryptoKey))
            let proof = old > size ? [] : try MerkleTree.consistencyProof(oldSize: old, leafHashes: leaves.prefix(size))
            return AddCheckpointRequest(oldSize: UInt64(old), proof: proof, checkpoint: note).body
        }
        #expect(try await served.request("POST", "/add-checkpoint", body(old: 0, size: 8)).status == 200)
        let conflict = try await served.request("POST", "/add-checkpoint", body(old: 0, size: 12))
        #expect(conflict.status == 409 && conflict.body == "8\n" && conflict.contentType == "text/x.tlog.size")
        #expect(try await served.request("POST", "/add-checkpoint", body(old: 9, size: 8)).status == 400)
        #expect(try await served.request("POST", "/add-checkpoint", Array("nonsense".utf8)).status == 400)
        #expect(
            try await served.request("POST", "/add-checkpoint", body(old: 0, size: 8, key: TestKeys.outsider)).status
                == 403
        )
        #expect(
            try await served.request("POST", "/add-checkpoint", body(old: 0, size: 8, origin: "example.test/other"))
                .status == 404
        )
        var bad = try body(old: 8, size: 12)
        bad[10] ^= 1
        #expect(try await served.request("POST", "/add-checkpoint", bad).status == 422)
        #expect(try await served.request("POST", "/add-checkpoint", body(old: 8, size: 12)).status == 200)
        let huge = [UInt8](repeating: 0x41, count: AddCheckpointRequest.maximumBytes + 1)
        #expect(try await served.request("POST", "/add-checkpoint", huge).status == 413)
        #expect(try await served.request("GET", "/\(String(repeating: "0", count: 64))/checkpoint").status == 404)
        #expect(try await served.request("GET", "/nothing").status == 404)
    }

    /// SIGKILL at random moments while requests are in flight, restart, and check that the witness never answers
    /// below or beside what it answered before the kill. The kill point is random, not pinned between the durable
    /// write and the answer: the product binary has no test hook, so many rounds stand in for one pinned kill.
    @Test(
        "a witness killed with SIGKILL mid-request never cosigns, after restart, a checkpoint inconsistent with one it answered",
        .enabled(if: ExternalTools.ledgerBinary != nil || ExternalTools.required)
    )
    func killedWitnessStaysConsistent() async throws {
        let folder = try TemporaryFolder()
        let log = try NoteVerifier(name: "example.test/log", publicKey: TestKeys.log.publicKey.rawRepresentation)
        let witness = try await TestWitnessFolder.make(in: folder, logs: [log.verifierKey])
        let leaves = (0..<400).map { MerkleTree.leafHash(Array("leaf-\($0)".utf8)) }
        let forkLeaves = (0..<400).map { MerkleTree.leafHash(Array("fork-\($0)".utf8)) }
        func body(old: Int, size: Int, of hashes: [Hash256]) throws -> [UInt8] {
            let checkpoint = Checkpoint(
                origin: "example.test/log",
                size: UInt64(size),
                root: MerkleTree.root(of: hashes.prefix(size))
            )
            var note = SignedNote(text: checkpoint.text, signatures: [])
            try note.addSignature(by: try NoteSigner(name: "example.test/log", privateKey: TestKeys.log.cryptoKey))
            let proof = try MerkleTree.consistencyProof(oldSize: old, leafHashes: hashes.prefix(size))
            return AddCheckpointRequest(oldSize: UInt64(old), proof: proof, checkpoint: note).body
        }
        var answered = 0  // the largest size the witness returned a cosignature for
        var size = 0
        var kills = 0
        var caughtBeforeAnswer = 0  // restarts that found a size persisted but never answered
        for round in 0..<12 {
            let served = try await WitnessProcess.start(witness.path, in: folder)
            // After a restart the witness holds at least every size it answered.
            let probe = try await served.request("POST", "/add-checkpoint", body(old: 0, size: 1, of: leaves))
            let held = answered == 0 && probe.status == 200 ? 1 : Int(probe.body.dropLast()) ?? -1
            #expect(held >= answered, "round \(round): the witness holds \(held) but answered \(answered)")
            // A fork at the size it holds is refused: its state was not reset.
            if held > 0 {
                let fork = try await served.request(
                    "POST",
                    "/add-checkpoint",
                    body(old: held, size: held, of: forkLeaves)
                )
                #expect(fork.status == 422, "round \(round): a fork at \(held) got \(fork.status)")
            }
            size = max(held, 1)
            answered = max(answered, held)
            if held > answered { caughtBeforeAnswer += 1 }
            // Requests one after another, and a SIGKILL among them: in odd rounds at a random moment, in even rounds
            // as soon as the state file changes after the first request, which is after the durable write and most
            // often before the answer reached the client.
            let pid = served.process.processIdentifier
            let stateFile = witness.path + "/checkpoints/" + Hash256.sha256(Array("example.test/log".utf8)).hex
            let before = FileManager.default.contents(atPath: stateFile)
            let watching = round % 2 == 0
            let killer = Task.detached {
                if watching {
                    let deadline = Date().addingTimeInterval(10)
                    while FileManager.default.contents(atPath: stateFile) == before, Date() < deadline { usleep(50) }
                } else {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...120)))
                }
                kill(pid, SIGKILL)
            }
            while size < leaves.count - 30 {
                let next = size + Int.random(in: 1...3)
                guard
                    let answer = try? await served.request(
                        "POST",
                        "/add-checkpoint",
                        body(old: size, size: next, of: leaves)
                    )
                else { break }
                guard answer.status == 200 else { break }
                answered = max(answered, next)
                size = next
            }
            _ = try? await killer.value
            served.process.waitUntilExit()
            if served.process.terminationReason == .uncaughtSignal { kills += 1 }
            if size >= leaves.count - 30 { break }
        }
        #expect(kills > 0)
        if ProcessInfo.processInfo.environment["LEDGER_WITNESS_KILL_STATS"] != nil {
            print("witness kill test: \(kills) kills, \(caughtBeforeAnswer) restarts held a size never answered")
        }
    }
}

/// A `ledger witness serve` process on a free port, started for a test.
struct WitnessProcess {
    let process: Process
    let port: Int64

    static func start(_ witness: String, in folder: TemporaryFolder) async throws -> WitnessProcess {
        let binary = try #require(ExternalTools.ledgerBinary, "the ledger executable was not built")
        let output = folder.path("witness-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["witness", "serve", witness, "--port", "0"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        var port: Int64?
        let deadline = Date().addingTimeInterval(60)
        while port == nil, Date() < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(50))
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            port =
                lines.compactMap { try? CanonicalJSON.parse(String($0)) }.first { $0["msg"] == "listening" }?["port"]?
                .integerValue
        }
        guard let port else {
            if process.isRunning { process.terminate() }
            throw TestServices.MissingService("ledger witness serve printed no 'listening' line")
        }
        return WitnessProcess(process: process, port: port)
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// One request: the status, the body as text and the content type.
    func request(
        _ method: String,
        _ path: String,
        _ body: [UInt8]? = nil
    ) async throws -> (
        status: Int, body: String, contentType: String?
    ) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        request.timeoutInterval = 10
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (
            http?.statusCode ?? 0, String(decoding: data, as: UTF8.self),
            http?.value(forHTTPHeaderField: "Content-Type")
        )
    }
}
