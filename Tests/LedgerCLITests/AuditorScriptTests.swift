import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// `docs/auditor/verify_export.py`, the short script of the auditor guide (Python and `cryptography` only),
/// verifies what `ledger export` writes and rejects each way of tampering with it, naming the first bad seq.
@Suite("The auditor's script verifies an export and rejects tampered copies")
struct AuditorScriptTests {
    static let script = ExternalTools.repositoryRoot.appendingPathComponent("docs/auditor/verify_export.py").path

    /// seq 0 genesis, 1 key.added bob, 2 note by bob, 3 policy.set, 4 key.revoked bob, 5 note by the pipeline key;
    /// exported, with a checkpoint of all six entries.
    struct Fixture {
        let workspace: TestWorkspace
        let export: String
        let checkpoint: String
        let lines: [String]
        let admin: SigningKey
        let log: SigningKey
        let pipeline: SigningKey
        let bob: SigningKey

        static func make() async throws -> Fixture {
            let workspace = try await TestWorkspace.make()
            let bobFile = workspace.folder.path("bob.key")
            let pipelineFile = "\(workspace.root)/keys/pipeline.key"
            let generated = await ledger("keys", "generate", "--name", "bob", "--role", "approver", "--out", bobFile)
            try #require(generated.status == 0, "\(generated.err)")
            let bob = try Self.key(bobFile)
            let steps: [[String]] = [
                [
                    "keys", "add", "--public", bobFile + ".pub", "--name", "bob", "--role", "approver", "--key",
                    workspace.adminKey,
                ],
                ["append", "--type", "note.added", "--data", #"{"text":"first note"}"#, "--key", bobFile],
                [
                    "append", "--type", "policy.set", "--data", #"{"policy":{"requiredApprovals":2}}"#, "--key",
                    workspace.adminKey,
                ],
                ["keys", "revoke", bob.keyID, "--reason", "rotation", "--key", workspace.adminKey],
                ["append", "--type", "note.added", "--data", #"{"text":"after the rotation"}"#, "--key", pipelineFile],
            ]
            for step in steps {
                let result = await workspace.run(step)
                try #require(result.status == 0, "`ledger \(step.joined(separator: " "))` failed: \(result.err)")
            }
            let export = workspace.folder.path("log.jsonl")
            let checkpoint = workspace.folder.path("checkpoint.txt")
            try #require(await workspace.run("checkpoint", "--out", checkpoint).status == 0)
            try #require(await workspace.run("export", "--out", export).status == 0)
            let lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").map(String.init)
            try #require(lines.count == 6)
            return Fixture(
                workspace: workspace,
                export: export,
                checkpoint: checkpoint,
                lines: lines,
                admin: try Self.key(workspace.adminKey),
                log: try Self.key(workspace.logKey),
                pipeline: try Self.key(pipelineFile),
                bob: bob
            )
        }

        static func key(_ path: String) throws -> SigningKey {
            try SigningKey(pemRepresentation: String(contentsOfFile: path, encoding: .utf8))
        }

        /// Writes `lines` as an export file.
        func write(_ lines: [String], to name: String) throws -> String {
            try workspace.folder.write(lines.joined(separator: "\n") + "\n", to: name)
        }

        /// An event that follows `lines` correctly (seq, prev, log, time), a note unless `type` and `data` say
        /// otherwise, signed by `signer`, with the envelope's keyid and the event's actor set to `claimedKeyID`
        /// (the signer's own by default) and `prev` to the last line's leaf hash unless given.
        func forged(
            after lines: [String],
            type: String = "note.added",
            data: JSONValue = ["text": "forged"],
            signer: SigningKey,
            claimedKeyID: KeyID? = nil,
            prev: Hash256? = nil
        ) throws -> String {
            let last = try SignedEvent(leaf: Array(lines[lines.count - 1].utf8))
            let keyID = claimedKeyID ?? signer.keyID
            let event = Event(
                log: last.event.log,
                seq: last.event.seq + 1,
                prev: prev ?? last.leafHash,
                time: last.event.time,
                type: type,
                actor: keyID,
                data: data
            )
            var envelope = try Envelope.signing(try event.canonicalBytes(), with: signer)
            envelope.signatures[0].keyID = keyID
            return String(decoding: envelope.canonicalBytes(), as: UTF8.self)
        }

        /// A C2SP checkpoint note for this log, signed by `key` under the log id.
        func checkpoint(size: Int, root: Hash256, signedBy key: SigningKey, name: String) throws -> String {
            var note = SignedNote(
                text: Checkpoint(origin: workspace.logID, size: UInt64(size), root: root).text,
                signatures: []
            )
            try note.addSignature(by: NoteSigner(name: workspace.logID, privateKey: key.cryptoKey))
            return try workspace.folder.write(note.serialized, to: name)
        }

        var root: Hash256 { MerkleTree.root(of: lines.map { MerkleTree.leafHash(Array($0.utf8)) }) }
    }

    /// Runs the script; the verdict is its exit status and its one JSON object.
    static func verify(_ arguments: [String]) throws -> CLIResult {
        let python = try #require(ExternalTools.python, "python with cryptography (set LEDGER_PYTHON)")
        return try runProcess(python, [script] + arguments)
    }

    @Test(
        "the script verifies the export with its checkpoint, and agrees with ledger verify on size and root",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required)
    )
    func acceptsExport() async throws {
        let fixture = try await Fixture.make()
        let genesis = fixture.workspace.genesis
        let result = try Self.verify([fixture.export, "--trust", genesis, "--checkpoint", fixture.checkpoint])
        #expect(result.status == 0, "\(result.out) \(result.err)")
        let ours = await ledger("verify", "--from", fixture.export, "--trust", genesis, "--json")
        #expect(ours.status == 0, "\(ours.err)")
        let report = try #require(result.json)
        #expect(report["ok"] == true)
        #expect(report["entries"] == 6 && report["entries"] == ours.json?["entries"])
        #expect(report["root"] == ours.json?["root"] && report["root"] == .string(fixture.root.hex))
        #expect(report["genesis"] == .string(genesis))
        #expect(report["log"] == .string(fixture.workspace.logID))
        #expect(report["checkpoints"] == [6])

        // The other trust anchor: the admin key that signed the genesis.
        let byKey = try Self.verify([fixture.export, "--trust-key", fixture.admin.keyID])
        #expect(byKey.status == 0, "\(byKey.out) \(byKey.err)")
        #expect(byKey.json?["root"] == .string(fixture.root.hex))

        // Without a trust anchor there is no verdict: a usage error, exit 2.
        #expect(try Self.verify([fixture.export]).status == 2)
    }

    /// Ways to tamper with an export, a checkpoint or the trust anchor.
    enum Attack: String, CaseIterable, CustomTestStringConvertible {
        case flippedBit = "a flipped bit in one line's payload"
        case truncated = "a truncated file checked against the checkpoint"
        case swapped = "two lines swapped"
        case wrongTrustAnchor = "a wrong trust anchor"
        case wrongTrustKey = "a trusted key that did not sign the genesis"
        case foreignKey = "a line signed by a key not in the log"
        case impostor = "a line naming a key of the log but signed by another"
        case revokedKey = "a line signed by a key after its revocation"
        case fork = "a validly signed line that chains to an earlier entry"
        case wrongRole = "a policy change signed by a key without the admin role"
        case rewritten = "a rewritten last line signed by a valid key, against the checkpoint"
        case checkpointByAdmin = "a checkpoint signed by a key without the log role"

        var testDescription: String { rawValue }

        /// The script's arguments, and the seq (nil: none) and words it must report.
        func arguments(_ fixture: Fixture) throws -> (arguments: [String], seq: Int?, reason: String) {
            var lines = fixture.lines
            let trust = ["--trust", fixture.workspace.genesis]
            let withCheckpoint = trust + ["--checkpoint", fixture.checkpoint]
            switch self {
            case .flippedBit:
                // Flip the lowest bit of the "f" of "first note" inside the signed payload of seq 2.
                var envelope = try Envelope(jsonBytes: Array(lines[2].utf8))
                let text = Array(#""first note""#.utf8)
                let at = try #require(
                    envelope.payload.indices.first { envelope.payload[$0...].starts(with: text) }
                )
                envelope.payload[at + 1] ^= 0x01
                lines[2] = String(decoding: envelope.canonicalBytes(), as: UTF8.self)
                return ([try fixture.write(lines, to: "flipped.jsonl")] + trust, 2, "signature does not verify")
            case .truncated:
                let file = try fixture.write(Array(lines.prefix(4)), to: "truncated.jsonl")
                return ([file] + withCheckpoint, 4, "truncated")
            case .swapped:
                lines.swapAt(2, 3)
                return ([try fixture.write(lines, to: "swapped.jsonl")] + trust, 2, "expected seq 2")
            case .wrongTrustAnchor:
                let genesis = fixture.workspace.genesis
                let wrong = (genesis.hasPrefix("0") ? "1" : "0") + genesis.dropFirst()
                return ([fixture.export, "--trust", wrong], 0, "is not the trusted")
            case .wrongTrustKey:
                return (
                    [fixture.export, "--trust-key", fixture.pipeline.keyID], 0, "not signed by the trusted admin key"
                )
            case .foreignKey:
                lines.append(try fixture.forged(after: lines, signer: SigningKey()))
                return ([try fixture.write(lines, to: "foreign.jsonl")] + trust, 6, "not in the log's keyring")
            case .impostor:
                let forged = try fixture.forged(
                    after: lines,
                    signer: SigningKey(),
                    claimedKeyID: fixture.pipeline.keyID
                )
                lines.append(forged)
                return ([try fixture.write(lines, to: "impostor.jsonl")] + trust, 6, "signature does not verify")
            case .revokedKey:
                lines.append(try fixture.forged(after: lines, signer: fixture.bob))
                return ([try fixture.write(lines, to: "revoked.jsonl")] + trust, 6, "revoked at seq 4")
            case .fork:
                let earlier = MerkleTree.leafHash(Array(lines[4].utf8))
                lines.append(try fixture.forged(after: lines, signer: fixture.pipeline, prev: earlier))
                return ([try fixture.write(lines, to: "fork.jsonl")] + trust, 6, "chain is broken")
            case .wrongRole:
                let policy: JSONValue = ["policy": ["requiredApprovals": 1]]
                lines.append(
                    try fixture.forged(after: lines, type: "policy.set", data: policy, signer: fixture.pipeline)
                )
                return ([try fixture.write(lines, to: "role.jsonl")] + trust, 6, "lacks the admin role")
            case .rewritten:
                lines[5] = try fixture.forged(after: Array(lines.prefix(5)), signer: fixture.pipeline)
                let file = try fixture.write(lines, to: "rewritten.jsonl")
                // The rewritten log is valid on its own; only the checkpoint shows the history changed.
                #expect(try AuditorScriptTests.verify([file] + trust).status == 0)
                return ([file] + withCheckpoint, nil, "history was rewritten")
            case .checkpointByAdmin:
                let checkpoint = try fixture.checkpoint(
                    size: 6,
                    root: fixture.root,
                    signedBy: fixture.admin,
                    name: "admin-checkpoint.txt"
                )
                return ([fixture.export] + trust + ["--checkpoint", checkpoint], nil, "not signed by a log key")
            }
        }
    }

    @Test(
        "the script rejects each attack with exit 1, the first bad seq and the reason",
        .enabled(if: ExternalTools.python != nil || ExternalTools.required),
        arguments: Attack.allCases
    )
    func rejects(_ attack: Attack) async throws {
        let fixture = try await Fixture.make()
        let (arguments, seq, reason) = try attack.arguments(fixture)
        let result = try Self.verify(arguments)
        #expect(result.status == 1, "\(result.out) \(result.err)")
        let report = try #require(result.json, "one JSON object on stdout: \(result.out) \(result.err)")
        #expect(report["ok"] == false)
        #expect(report["seq"] == seq.map { JSONValue.number(Double($0)) } ?? .null, "\(result.out)")
        #expect(report["reason"]?.stringValue?.contains(reason) == true, "\(result.out)")
        // The same copy is refused by `ledger verify` (exit 3), so the script and the ledger agree.
        if attack != .wrongTrustKey {
            let ours = await ledger(["verify", "--from"] + arguments)
            #expect(ours.status == 3, "\(ours.out) \(ours.err)")
        }
    }
}
