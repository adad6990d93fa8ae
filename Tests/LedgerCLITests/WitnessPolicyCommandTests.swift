import Foundation
import LedgerCLI
import LedgerCore
import LedgerStore
import LedgerTestSupport
import LedgerTesting
import LedgerWorkspace
import Testing

/// `ledger keys vkey`, `ledger verify --policy`, `ledger prove inclusion --format tlog-proof` and `ledger prove
/// verify --policy`, run in a temporary workspace with witnesses played in process.
@Suite struct WitnessPolicyCommandTests {
    /// A workspace with two notes, its log's vkey, two witnesses and a policy needing both.
    struct Fixture {
        let workspace: TestWorkspace
        let logVkey: String
        let a: CosignatureSigner
        let b: CosignatureSigner
        let policy: String

        static func make() async throws -> Fixture {
            let workspace = try await TestWorkspace.make(logID: "test.example/witnessed")
            for text in ["first", "second"] {
                let appended = await workspace.run(
                    "append",
                    "--type",
                    "note.added",
                    "--data",
                    "{\"text\":\"\(text)\"}",
                    "--key",
                    workspace.adminKey
                )
                try #require(appended.status == 0, "\(appended.err)")
            }
            let vkey = await workspace.run("keys", "vkey")
            try #require(vkey.status == 0, "\(vkey.err)")
            let a = try CosignatureSigner(
                name: "a.witness.example",
                privateKey: TestKeys.key("cli-witness-a").cryptoKey
            )
            let b = try CosignatureSigner(
                name: "b.witness.example",
                privateKey: TestKeys.key("cli-witness-b").cryptoKey
            )
            let logVkey = vkey.out.trimmingCharacters(in: .whitespacesAndNewlines)
            let policy = workspace.folder.path("witnesses.policy")
            try Data(
                """
                # the log and two witnesses that must both cosign
                log \(logVkey)
                witness A \(a.verifier.verifierKey) https://a.witness.example/
                witness B \(b.verifier.verifierKey)
                group both all A B
                quorum both

                """.utf8
            ).write(to: URL(fileURLWithPath: policy))
            return Fixture(workspace: workspace, logVkey: logVkey, a: a, b: b, policy: policy)
        }

        /// `ledger checkpoint --out`, read back.
        func checkpoint(_ name: String) async throws -> SignedNote {
            let path = workspace.folder.path(name)
            let made = await workspace.run("checkpoint", "--out", path)
            try #require(made.status == 0, "\(made.err)")
            return try SignedNote.parse(String(contentsOfFile: path, encoding: .utf8))
        }

        /// Writes `note` with cosignatures by `witnesses` to a file and returns its path.
        func write(_ note: SignedNote, cosignedBy witnesses: [CosignatureSigner], as name: String) throws -> String {
            var cosigned = note
            for witness in witnesses {
                cosigned.signatures.append(try witness.cosign(checkpointText: note.text, timestamp: 1_750_000_000))
            }
            let path = workspace.folder.path(name)
            try Data(cosigned.serialized.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        /// Signs and keeps, in the workspace's store, a checkpoint of the current size cosigned by `witnesses` (as
        /// `ledger checkpoint --witness` would), without keeping an uncosigned one first.
        func keepCosignedCheckpoint(by witnesses: [CosignatureSigner]) async throws -> SignedNote {
            let store = try await Workspace.locate(workspace.root).openStore()
            let size = try await store.size()
            let root = MerkleTree.root(of: try await store.leafHashes(upTo: size))
            let body = Checkpoint(origin: workspace.logID, size: size, root: root)
            var note = SignedNote(text: body.text, signatures: [])
            let key = try KeyFiles.loadPrivateKey(workspace.logKey)
            try note.addSignature(by: NoteSigner(name: workspace.logID, privateKey: key.cryptoKey))
            for witness in witnesses {
                note.signatures.append(try witness.cosign(checkpointText: note.text, timestamp: 1_750_000_000))
            }
            try await store.keepCheckpoint(note.serialized, size: size)
            return note
        }
    }

    // MARK: keys vkey

    @Test func vkeyVerifiesTheLogsCheckpoints() async throws {
        let fixture = try await Fixture.make()
        let note = try await fixture.checkpoint("cp.txt")
        let verifier = try NoteVerifier(verifierKey: fixture.logVkey)
        #expect(verifier.name == "test.example/witnessed")
        #expect(try note.verify(with: [verifier]) == [verifier])
        // The same key from its public file, its private file and its keyid prefix.
        let workspace = fixture.workspace
        let fromPublic = await workspace.run("keys", "vkey", workspace.logKey + ".pub")
        let fromPrivate = await workspace.run("keys", "vkey", workspace.logKey)
        let keyID = try KeyFiles.loadPrivateKey(workspace.logKey).keyID
        let fromKeyring = await workspace.run("keys", "vkey", String(keyID.prefix(12)), "--json")
        #expect(fromPublic.out == fromPrivate.out)
        #expect(fromPublic.out.trimmingCharacters(in: .newlines) == fixture.logVkey)
        #expect(fromKeyring.json?.arrayValue?.first?["vkey"]?.stringValue == fixture.logVkey)
        #expect(fromKeyring.json?.arrayValue?.first?["keyid"]?.stringValue == keyID)
        // Another origin changes the name and the key ID, so it no longer verifies the checkpoint.
        let renamed = await workspace.run("keys", "vkey", workspace.logKey + ".pub", "--origin", "other.example/log")
        #expect(throws: NoteError.self) {
            try note.verify(with: [try NoteVerifier(verifierKey: renamed.out.trimmingCharacters(in: .newlines))])
        }
    }

    @Test func vkeyPrintsCosignerKeys() async throws {
        let workspace = try await TestWorkspace.make()
        let result = await workspace.run(
            "keys",
            "vkey",
            workspace.adminKey + ".pub",
            "--cosigner",
            "w1.example",
            "--json"
        )
        try #require(result.status == 0, "\(result.err)")
        let entry = try #require(result.json?.arrayValue?.first)
        let vkey = try #require(entry["vkey"]?.stringValue)
        #expect(entry["type"]?.stringValue == "cosignature/v1")
        let cosigner = try CosignatureVerifier(verifierKey: vkey)
        #expect(cosigner.name == "w1.example")
        #expect(cosigner.publicKey == (try KeyFiles.loadPrivateKey(workspace.adminKey)).publicKey.rawRepresentation)
        #expect(throws: NoteError.self) { try NoteVerifier(verifierKey: vkey) }
    }

    @Test(arguments: [
        ["keys", "vkey", "nothing-here"], ["keys", "vkey", "--cosigner", "a b"], ["keys", "vkey", "--origin", "x+y"],
        ["keys", "vkey", "--origin", "o", "--cosigner", "c"], ["keys", "vkey", "0123456789abcdef0123"],
    ])
    func vkeyRefusesBadInput(_ arguments: [String]) async throws {
        let workspace = try await TestWorkspace.make()
        let result = await workspace.run(arguments)
        #expect(result.status != 0)
        #expect(result.out.isEmpty)
    }

    @Test("keys vkey --help, word for word")
    func vkeyHelp() async {
        let help = await ledger("keys", "vkey", "--help")
        #expect(
            help.out == """
                OVERVIEW: Print a key's C2SP verifier key (vkey, name+keyid+base64) for other
                transparency tools.

                A log key's vkey (type 0x01) is named after the log's origin, as its
                checkpoints are; it goes on the `log` line of a tlog-policy and into Go's
                golang.org/x/mod/sumdb/note. With --cosigner NAME it prints a witness key's
                vkey (type 0x04, cosignature/v1) for the policy's `witness` lines. KEY is a
                public key (64 hex characters, or a file with hex or an SPKI PEM), a private
                key file, or a keyid (or a unique prefix of 8 or more) in the log's keyring;
                without KEY it prints the workspace's active log keys.

                Examples:
                  ledger keys vkey
                  ledger keys vkey keys/log.key.pub --origin example.com/models
                  ledger keys vkey witness.key --cosigner witness.example.com/w1 --json

                USAGE: ledger keys vkey [--workspace <DIR>] [<KEY>] [--origin <ORIGIN>] [--cosigner <NAME>] [--json]

                ARGUMENTS:
                  <KEY>                   A public key, a private key file, or a keyid in the
                                          keyring.

                OPTIONS:
                  --workspace <DIR>       The workspace folder (default: the current folder or
                                          its nearest parent with ledger.json).
                  --origin <ORIGIN>       The log's origin, the key name of a log key (default:
                                          the workspace's log id).
                  --cosigner <NAME>       Print a witness (cosigner) vkey, type 0x04, under
                                          this name.
                  --json                  Print the result as JSON.
                  --version               Show the version.
                  -h, --help              Show help information.


                """
        )
    }

    // MARK: verify --policy

    @Test func verifyCountsOnlyCheckpointsWithTheirQuorum() async throws {
        let fixture = try await Fixture.make()
        let workspace = fixture.workspace
        let note = try await fixture.checkpoint("cp.txt")
        let both = try fixture.write(note, cosignedBy: [fixture.a, fixture.b], as: "cp-both.txt")
        let onlyA = try fixture.write(note, cosignedBy: [fixture.a], as: "cp-a.txt")

        let ok = await workspace.run("verify", "--policy", fixture.policy, "--checkpoint", both, "--json")
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.json?["witnessed"]?["size"]?.integerValue == 3)
        #expect(ok.json?["witnessed"]?["cosignatures"]?.arrayValue?.count == 2)
        // The kept checkpoint (signed by `ledger checkpoint`, no cosignature) does not count, and says why.
        #expect(ok.json?["unwitnessed"]?.arrayValue?.first?["missing"]?.arrayValue?.count == 2)
        let text = await workspace.run("verify", "--policy", fixture.policy, "--checkpoint", both)
        #expect(text.status == 0)
        #expect(text.out.contains("witnessed    up to size 3 (quorum met: A, B)"))

        let missing = await workspace.run("verify", "--policy", fixture.policy, "--checkpoint", onlyA, "--json")
        #expect(missing.status == 3)
        #expect(missing.json?["code"]?.stringValue == "witness.quorum")
        #expect(missing.json?["reason"]?.stringValue?.contains("missing: B") == true)

        // Without a given checkpoint only the kept, uncosigned one is left: nothing meets the quorum.
        let none = await workspace.run("verify", "--policy", fixture.policy)
        #expect(none.status == 3)
        #expect(none.err.contains("no checkpoint meets the policy's quorum"))
        #expect(none.err.contains("missing: A, B"))

        // Without --policy the same checkpoint verifies as before: only the log's signature is needed.
        #expect(await workspace.run("verify", "--checkpoint", onlyA).status == 0)
    }

    @Test func verifyRefusesBadAndMovedCosignatures() async throws {
        let fixture = try await Fixture.make()
        let workspace = fixture.workspace
        let note = try await fixture.checkpoint("cp.txt")
        let both = try fixture.write(note, cosignedBy: [fixture.a, fixture.b], as: "cp-both.txt")

        // One bit of B's cosignature.
        var flipped = try SignedNote.parse(String(contentsOfFile: both, encoding: .utf8))
        flipped.signatures[2].signature[20] ^= 0x01
        let flippedPath = workspace.folder.path("cp-flipped.txt")
        try Data(flipped.serialized.utf8).write(to: URL(fileURLWithPath: flippedPath))
        let bad = await workspace.run("verify", "--policy", fixture.policy, "--checkpoint", flippedPath, "--json")
        #expect(bad.status == 3)
        #expect(bad.json?["code"]?.stringValue == "witness.badCosignature")

        // The cosignatures of the size-3 tree moved onto the log's next checkpoint (size 4).
        let appended = await workspace.run(
            "append",
            "--type",
            "note.added",
            "--data",
            "{\"text\":\"third\"}",
            "--key",
            workspace.adminKey
        )
        try #require(appended.status == 0)
        var next = try await fixture.checkpoint("cp4.txt")
        next.signatures += try SignedNote.parse(String(contentsOfFile: both, encoding: .utf8)).signatures.dropFirst()
        let movedPath = workspace.folder.path("cp-moved.txt")
        try Data(next.serialized.utf8).write(to: URL(fileURLWithPath: movedPath))
        let moved = await workspace.run("verify", "--policy", fixture.policy, "--checkpoint", movedPath, "--json")
        #expect(moved.status == 3)
        #expect(moved.json?["code"]?.stringValue == "witness.badCosignature")

        // A policy whose log is another key: the log's own checkpoints do not count.
        let otherPolicy = workspace.folder.path("other.policy")
        let other = try NoteSigner(name: workspace.logID, privateKey: TestKeys.key("not-the-log").cryptoKey)
        try Data("log \(other.verifier.verifierKey)\nquorum none\n".utf8).write(to: URL(fileURLWithPath: otherPolicy))
        let foreign = await workspace.run("verify", "--policy", otherPolicy, "--checkpoint", both, "--json")
        #expect(foreign.status == 3)
        #expect(foreign.json?["code"]?.stringValue == "chain.checkpoint")
    }

    @Test func verifyAnExportWithThePolicy() async throws {
        let fixture = try await Fixture.make()
        let workspace = fixture.workspace
        let note = try await fixture.checkpoint("cp.txt")
        let both = try fixture.write(note, cosignedBy: [fixture.a, fixture.b], as: "cp-both.txt")
        let onlyB = try fixture.write(note, cosignedBy: [fixture.b], as: "cp-b.txt")
        let export = workspace.folder.path("log.jsonl")
        #expect(await workspace.run("export", "--out", export).status == 0)
        let base = ["verify", "--from", export, "--trust", workspace.genesis, "--policy", fixture.policy]
        #expect(await ledger(base + ["--checkpoint", both]).status == 0)
        let missing = await ledger(base + ["--checkpoint", onlyB])
        #expect(missing.status == 3)
        #expect(missing.err.contains("missing: A"))
        #expect(await ledger(base).status == 3)
    }

    @Test func aMalformedPolicyIsAnError() async throws {
        let fixture = try await Fixture.make()
        let path = fixture.workspace.folder.path("bad.policy")
        try Data("witness A \(fixture.logVkey)\nquorum A\n".utf8).write(to: URL(fileURLWithPath: path))
        let result = await fixture.workspace.run("verify", "--policy", path)
        #expect(result.status == 1)
        #expect(result.err.contains("witness policy: line 1"))
    }

    // MARK: tlog-proof

    @Test func proveAndVerifyATlogProof() async throws {
        let fixture = try await Fixture.make()
        let workspace = fixture.workspace
        let kept = try await fixture.keepCosignedCheckpoint(by: [fixture.a, fixture.b])
        let proofPath = workspace.folder.path("entry-1.tlog-proof")
        let made = await workspace.run("prove", "inclusion", "1", "--format", "tlog-proof", "--out", proofPath)
        try #require(made.status == 0, "\(made.err)")
        let text = try String(contentsOfFile: proofPath, encoding: .utf8)
        #expect(text.hasPrefix("c2sp.org/tlog-proof@v1\nextra "))
        #expect(text.hasSuffix(kept.serialized))
        // Printed to standard output, the same bytes.
        let printed = await workspace.run("prove", "inclusion", "1", "--format", "tlog-proof")
        #expect(printed.out == text)

        let verified = await ledger("prove", "verify", proofPath, "--policy", fixture.policy, "--json")
        #expect(verified.status == 0, "\(verified.err)")
        #expect(verified.json?["index"]?.integerValue == 1)
        #expect(verified.json?["size"]?.integerValue == 3)
        #expect(verified.json?["inclusionOnly"]?.boolValue == true)
        let plain = await ledger("prove", "verify", proofPath, "--policy", fixture.policy)
        #expect(plain.out.contains("cosigned by A, B (quorum met)"))
        #expect(plain.out.contains("proves inclusion only"))
        #expect(plain.out.contains("needs the log before it"))

        // The entry it carries is entry 1: its leaf hash is what `ledger log` prints.
        let entry = await workspace.run("log", "--json")
        let leafHash = try #require(entry.json?.arrayValue?[1]["leafHash"]?.stringValue)
        #expect(
            await ledger("prove", "verify", proofPath, "--policy", fixture.policy, "--leaf-hash", leafHash).status == 0
        )
        let genesisHash = workspace.genesis
        let other = await ledger("prove", "verify", proofPath, "--policy", fixture.policy, "--leaf-hash", genesisHash)
        #expect(other.status == 3)
    }

    @Test func aTlogProofIsRefusedWithoutItsQuorumOrWhenTampered() async throws {
        let fixture = try await Fixture.make()
        let workspace = fixture.workspace
        _ = try await fixture.keepCosignedCheckpoint(by: [fixture.a])
        let proofPath = workspace.folder.path("entry-2.tlog-proof")
        #expect(
            await workspace.run("prove", "inclusion", "2", "--format", "tlog-proof", "--out", proofPath).status == 0
        )
        let quorum = await ledger("prove", "verify", proofPath, "--policy", fixture.policy, "--json")
        #expect(quorum.status == 3)
        #expect(quorum.json?["code"]?.stringValue == "witness.quorum")
        #expect(quorum.json?["reason"]?.stringValue?.contains("missing: B") == true)
        // With --policy, prove inclusion finds no checkpoint with the quorum.
        let refused = await workspace.run(
            "prove",
            "inclusion",
            "2",
            "--format",
            "tlog-proof",
            "--policy",
            fixture.policy
        )
        #expect(refused.status != 0)
        #expect(refused.err.contains("meets the policy's quorum"))

        // Tampering with the proof file: a proof hash, the index, the entry, the cut-off end.
        let anyWitness = workspace.folder.path("any.policy")
        try Data(
            "log \(fixture.logVkey)\nwitness A \(fixture.a.verifier.verifierKey)\nquorum A\n".utf8
        ).write(to: URL(fileURLWithPath: anyWitness))
        #expect(await ledger("prove", "verify", proofPath, "--policy", anyWitness).status == 0)
        let text = try String(contentsOfFile: proofPath, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        let hashLine = try #require(lines.firstIndex { $0.hasPrefix("index ") }) + 1
        var tampered: [String] = []
        var flippedHash = lines
        flippedHash[hashLine] = (flippedHash[hashLine].first == "A" ? "B" : "A") + flippedHash[hashLine].dropFirst()
        tampered.append(flippedHash.joined(separator: "\n"))
        tampered.append(text.replacingOccurrences(of: "index 2\n", with: "index 1\n"))
        lines[1] = "extra " + Base64.encode(Array("{\"not\":\"the entry\"}".utf8))
        tampered.append(lines.joined(separator: "\n"))
        tampered.append(String(text.dropLast(3)))
        for (position, variant) in tampered.enumerated() {
            let path = workspace.folder.path("tampered-\(position).tlog-proof")
            try Data(variant.utf8).write(to: URL(fileURLWithPath: path))
            let result = await ledger("prove", "verify", path, "--policy", anyWitness)
            #expect(result.status == 3, "variant \(position): \(result.out) \(result.err)")
        }
        // A tlog-proof without --policy is a usage error that says what to add.
        let usage = await ledger("prove", "verify", proofPath)
        #expect(usage.status == 2)
        #expect(usage.err.contains("--policy"))
    }
}
