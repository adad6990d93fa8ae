import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import LedgerTransparency
import Testing

// cosignature/v1 (C2SP tlog-cosignature) as the policy evaluation uses it: the spec's facts, our signatures, and the
// attacks a verifier must refuse. An independent check of our signatures is in CosignaturePeerTests.

@Suite struct CosignatureTests {
    /// The signed message of the spec's "Ed25519 signed message" example, byte for byte.
    @Test func messageIsTheSpecExample() throws {
        let expected = try PolicyKit.fixture("tlog-cosignature-message-example.txt")
        let checkpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        #expect(Cosignature.message(checkpointText: checkpoint, timestamp: 1_679_315_147) == Array(expected.utf8))
    }

    /// The spec's example cosigned checkpoint: the witness line carries 8 + 64 bytes, and its big-endian timestamp is
    /// the `time` of the spec's message example. (The spec gives no key, so the signature itself cannot be checked.)
    @Test func specExampleCosignatureCarriesItsTimestamp() throws {
        let note = try SignedNote.parse(try PolicyKit.fixture("tlog-cosignature-example.txt"))
        #expect(note.signatures.count == 2)
        let line = note.signatures[1]
        #expect(line.name == "witness.example.com/w1")
        #expect(line.signature.count == 72)
        #expect(line.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == 1_679_315_147)
        #expect(note.signatures[0].signature.count == 64)
    }

    @Test func verifiesItsOwnCosignatureAndTimestamp() throws {
        let witness = try PolicyKit.witness("w")
        let note = try PolicyKit.checkpoint().note
        let line = try witness.cosign(checkpointText: note.text, timestamp: 1_712_345_678)
        #expect(witness.verifier.timestamp(of: line, on: note.text) == 1_712_345_678)
        let parsed = try CosignatureVerifier(verifierKey: witness.verifier.verifierKey)
        #expect(parsed == witness.verifier)
        #expect(parsed.timestamp(of: line, on: note.text) == 1_712_345_678)
    }

    /// Every single-bit flip of the 72 signature bytes (timestamp included), truncation and extension are refused.
    @Test func refusesEveryBitFlipTruncationAndExtension() throws {
        let witness = try PolicyKit.witness("w")
        let note = try PolicyKit.checkpoint().note
        let line = try witness.cosign(checkpointText: note.text, timestamp: 1_712_345_678)
        for byte in line.signature.indices {
            for bit in 0..<8 {
                var flipped = line
                flipped.signature[byte] ^= UInt8(1) << UInt8(bit)
                #expect(witness.verifier.timestamp(of: flipped, on: note.text) == nil, "byte \(byte) bit \(bit)")
            }
        }
        var short = line
        short.signature.removeLast()
        #expect(witness.verifier.timestamp(of: short, on: note.text) == nil)
        var long = line
        long.signature.append(0)
        #expect(witness.verifier.timestamp(of: long, on: note.text) == nil)
    }

    @Test func refusesAnotherTextNameOrKey() throws {
        let witness = try PolicyKit.witness("w")
        let note = try PolicyKit.checkpoint().note
        let line = try witness.cosign(checkpointText: note.text, timestamp: 1_712_345_678)
        let otherTree = try PolicyKit.checkpoint(size: 11).note
        #expect(witness.verifier.timestamp(of: line, on: otherTree.text) == nil)
        var flippedText = Array(note.text.utf8)
        flippedText[2] ^= 1
        #expect(witness.verifier.timestamp(of: line, on: String(decoding: flippedText, as: UTF8.self)) == nil)
        // The same key under another name, and another key under the same name, do not match the line.
        let renamed = try CosignatureVerifier(name: "other.witness.example", publicKey: witness.verifier.publicKey)
        #expect(renamed.timestamp(of: line, on: note.text) == nil)
        let rekeyed = try CosignatureVerifier(
            name: witness.verifier.name,
            publicKey: TestKeys.key("x").publicKey.rawRepresentation
        )
        #expect(rekeyed.timestamp(of: line, on: note.text) == nil)
    }

    /// A plain note signature (type 0x01) by the witness's key is not a cosignature: its key ID differs.
    @Test func aNoteSignatureIsNotACosignature() throws {
        let key = TestKeys.key("witness-w").cryptoKey
        let witness = try PolicyKit.witness("w")
        var note = try PolicyKit.checkpoint().note
        try note.addSignature(by: try NoteSigner(name: witness.verifier.name, privateKey: key))
        #expect(!witness.verifier.matches(note.signatures[1]))
        #expect(throws: NoteError.self) {
            try CosignatureVerifier(verifierKey: PolicyKit.logSigner().verifier.verifierKey)
        }
        #expect(throws: NoteError.self) { try NoteVerifier(verifierKey: witness.verifier.verifierKey) }
    }

    @Test func refusesTimestampsZeroAndAbove2To63() throws {
        let witness = try PolicyKit.witness("w")
        let text = try PolicyKit.checkpoint().note.text
        #expect(throws: NoteError.self) { try witness.cosign(checkpointText: text, timestamp: 0) }
        #expect(throws: NoteError.self) { try witness.cosign(checkpointText: text, timestamp: 1 << 63) }
        _ = try witness.cosign(checkpointText: text, timestamp: (1 << 63) - 1)
    }

    // MARK: Attacks on a policy's evaluation

    private static func setup() throws -> (
        policy: WitnessPolicy, note: SignedNote, a: CosignatureSigner, b: CosignatureSigner
    ) {
        let a = try PolicyKit.witness("a")
        let b = try PolicyKit.witness("b")
        let policy = try WitnessPolicy(
            text: """
                log \(try PolicyKit.logSigner().verifier.verifierKey)
                witness A \(a.verifier.verifierKey)
                witness B \(b.verifier.verifierKey)
                group both all A B
                quorum both

                """
        )
        return (policy, try PolicyKit.checkpoint().note, a, b)
    }

    @Test func theHonestNoteMeetsTheQuorumInAnyOrder() throws {
        let (policy, note, a, b) = try Self.setup()
        let cosigned = try PolicyKit.cosigned(note, by: [a, b])
        #expect(try policy.evaluate(cosigned).isMet)
        var reordered = cosigned
        reordered.signatures.reverse()
        #expect(try policy.evaluate(reordered).isMet)
        // And it survives a round trip through its text.
        #expect(try policy.evaluate(try SignedNote.parse(cosigned.serialized)).isMet)
    }

    @Test(arguments: [0, 5, 8, 40, 71])
    func aBitFlipInACosignatureMakesTheNoteBad(_ byte: Int) throws {
        let (policy, note, a, b) = try Self.setup()
        var cosigned = try PolicyKit.cosigned(note, by: [a, b])
        cosigned.signatures[2].signature[byte] ^= 0x10  // bytes 0..<8 are the timestamp
        let error = try #require(throws: LedgerError.self) { try policy.evaluate(cosigned) }
        #expect(error.code == .badCosignature)
        #expect(error.reason.contains("witness B"))
    }

    @Test func aBitFlipInTheCheckpointTextIsRefused() throws {
        let (policy, note, a, b) = try Self.setup()
        let cosigned = try PolicyKit.cosigned(note, by: [a, b])
        var bytes = Array(cosigned.serialized.utf8)
        let sizeLine = PolicyKit.origin.utf8.count + 1
        bytes[sizeLine + 1] ^= 0x01  // size "10" becomes "11"
        let tampered = try SignedNote.parse(utf8: bytes)
        let error = try #require(throws: LedgerError.self) { try policy.evaluate(tampered) }
        #expect(error.code == .checkpoint)
        #expect(error.reason.contains("does not verify"))
    }

    /// A log that signs a second tree of the same size (a split view) cannot reuse the first tree's cosignatures.
    @Test func cosignaturesOfAnotherTreeAreRefused() throws {
        let (policy, note, a, b) = try Self.setup()
        let cosigned = try PolicyKit.cosigned(note, by: [a, b])
        let forkLeaves = (0..<10).map { MerkleTree.leafHash(Array("forked \($0)".utf8)) }
        let fork = Checkpoint(origin: PolicyKit.origin, size: 10, root: MerkleTree.root(of: forkLeaves))
        var forked = SignedNote(text: fork.text, signatures: [])
        try forked.addSignature(by: PolicyKit.logSigner())
        forked.signatures += cosigned.signatures.dropFirst()
        let error = try #require(throws: LedgerError.self) { try policy.evaluate(forked) }
        #expect(error.code == .badCosignature)
        // The same for the cosignatures of an older, smaller tree moved onto the newer one.
        let older = try PolicyKit.cosigned(try PolicyKit.checkpoint(size: 9).note, by: [a, b])
        var moved = note
        moved.signatures += older.signatures.dropFirst()
        #expect(throws: LedgerError.self) { try policy.evaluate(moved) }
    }

    @Test func aCosignatureByAWrongKeyDoesNotCount() throws {
        let (policy, note, a, _) = try Self.setup()
        // An impostor with B's cosigner name but its own key: its key ID differs, so the line is ignored.
        let impostor = try CosignatureSigner(name: "b.witness.example", privateKey: TestKeys.key("impostor").cryptoKey)
        let verdict = try policy.evaluate(try PolicyKit.cosigned(note, by: [a, impostor]))
        #expect(!verdict.isMet)
        #expect(verdict.missingWitnesses == ["B"])
        #expect(verdict.cosignatures.map(\.witness.name) == ["A"])
    }

    @Test func aWitnessThatCosignsTwiceCountsOnce() throws {
        let (policy, note, a, _) = try Self.setup()
        var twice = try PolicyKit.cosigned(note, by: [a])
        twice.signatures.append(try a.cosign(checkpointText: note.text, timestamp: 1_800_000_000))
        let verdict = try policy.evaluate(twice)
        #expect(!verdict.isMet)
        #expect(verdict.cosignatures.count == 1)
        #expect(verdict.explanation.contains("missing: B"))
        let threshold = try WitnessPolicy(
            text: "witness A \(a.verifier.verifierKey)\nwitness B \(try PolicyKit.witness("b").verifier.verifierKey)\n"
                + "group G 2 A B\nquorum G\n"
        )
        #expect(!(try threshold.evaluate(twice, knownLogs: [try PolicyKit.logSigner().verifier])).isMet)
    }

    @Test func aMissingOrForeignLogSignatureIsRefused() throws {
        let (policy, note, a, b) = try Self.setup()
        var unsigned = try PolicyKit.cosigned(note, by: [a, b])
        unsigned.signatures.removeFirst()
        let missing = try #require(throws: LedgerError.self) { try policy.evaluate(unsigned) }
        #expect(missing.code == .checkpoint)
        #expect(missing.reason.contains("not signed"))
        // Signed by another key under the log's name: the key ID differs, so no log signature is known.
        let foreign = try PolicyKit.checkpoint(signer: PolicyKit.logSigner(key: "attacker")).note
        let wrongKey = try #require(throws: LedgerError.self) {
            try policy.evaluate(try PolicyKit.cosigned(foreign, by: [a, b]))
        }
        #expect(wrongKey.code == .checkpoint)
        // The log's own line with a flipped signature bit.
        var flipped = try PolicyKit.cosigned(note, by: [a, b])
        flipped.signatures[0].signature[3] ^= 0x80
        let bad = try #require(throws: LedgerError.self) { try policy.evaluate(flipped) }
        #expect(bad.reason.contains("does not verify"))
    }
}

/// Tests/Peers/cosignature_peer.py, a Python check of cosignature/v1 written from the spec with `cryptography`.
enum CosignaturePeer {
    /// $LEDGER_PYTHON (which .ci/run sets to its venv), else /usr/bin/python3; nil when missing or without
    /// `cryptography`.
    static let python: String? = {
        let candidate = ProcessInfo.processInfo.environment["LEDGER_PYTHON"] ?? "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let check = try? run(candidate, ["-c", "import cryptography"]), check.status == 0
        else { return nil }
        return candidate
    }()

    /// In CI every peer must be present: a missing one fails instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Peers/cosignature_peer.py").path
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let outPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    /// Writes `note` to a scratch file and runs `verify` on it with `vkeys`.
    static func verify(_ note: String, vkeys: [String]) throws -> (status: Int32, out: String) {
        let python = try #require(python, "a Python with cryptography (set LEDGER_PYTHON)")
        let folder = try TemporaryFolder("cosignature-peer")
        let path = folder.path + "/note"
        try Data(note.utf8).write(to: URL(fileURLWithPath: path))
        return try run(python, [script, "verify", path] + vkeys.flatMap { ["--vkey", $0] })
    }
}

@Suite("cosignature/v1 peer")
struct CosignaturePeerTests {
    @Test(
        "the Python peer verifies our cosignatures and refuses their broken twins",
        .enabled(
            if: CosignaturePeer.python != nil || CosignaturePeer.required,
            "set LEDGER_PYTHON to a Python with cryptography to run Tests/Peers/cosignature_peer.py"
        )
    )
    func peerAgrees() throws {
        let a = try PolicyKit.witness("a")
        let b = try PolicyKit.witness("b")
        let vkeys = [a.verifier.verifierKey, b.verifier.verifierKey]
        let note = try PolicyKit.cosigned(try PolicyKit.checkpoint().note, by: [a, b])
        let honest = try CosignaturePeer.verify(note.serialized, vkeys: vkeys)
        #expect(honest.status == 0, "\(honest.out)")
        #expect(honest.out.contains("\"timestamp\": 1700000000") && honest.out.contains("\"timestamp\": 1700000001"))
        let keyID = a.verifier.verifierKey.split(separator: "+")[1]
        #expect(honest.out.contains("\"keyID\": \"\(keyID)\""))

        for byte in [0, 7, 8, 40, 71] {
            var flipped = note
            flipped.signatures[2].signature[byte] ^= 0x01
            #expect(try CosignaturePeer.verify(flipped.serialized, vkeys: vkeys).status == 1, "byte \(byte)")
        }
        // The cosignatures moved onto another tree, and onto a checkpoint text with one bit changed.
        var moved = try PolicyKit.checkpoint(size: 11).note
        moved.signatures += note.signatures.dropFirst()
        #expect(try CosignaturePeer.verify(moved.serialized, vkeys: vkeys).status == 1)
        var bytes = Array(note.serialized.utf8)
        bytes[PolicyKit.origin.utf8.count + 2] ^= 0x01
        #expect(try CosignaturePeer.verify(String(decoding: bytes, as: UTF8.self), vkeys: vkeys).status == 1)
        // A witness that did not cosign, and a vkey whose key ID does not match (our key-ID computation is checked).
        let c = try PolicyKit.witness("c")
        #expect(try CosignaturePeer.verify(note.serialized, vkeys: [c.verifier.verifierKey]).status == 1)
        var wrongID = Array(a.verifier.verifierKey)
        let idStart = wrongID.firstIndex(of: "+").map { $0 + 1 } ?? 0
        wrongID[idStart] = wrongID[idStart] == "0" ? "1" : "0"
        #expect(try CosignaturePeer.verify(note.serialized, vkeys: [String(wrongID)]).status == 2)
    }
}
