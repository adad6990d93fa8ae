import Foundation
import LedgerCore
import LedgerTesting
import LedgerTransparency
import Testing

@Suite struct TlogProofTests {
    /// A witnessed log of 10 leaves, a policy needing both witnesses, and the proof of leaf `index`.
    private static func setup(
        index: Int = 3,
        extra: [UInt8]? = nil
    ) throws -> (
        proof: TlogProof, policy: WitnessPolicy, leaves: [Hash256]
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
        let (note, leaves) = try PolicyKit.checkpoint()
        let proof = TlogProof(
            extra: extra,
            index: UInt64(index),
            proof: try MerkleTree.inclusionProof(leafIndex: index, leafHashes: leaves),
            checkpoint: try PolicyKit.cosigned(note, by: [a, b])
        )
        return (proof, policy, leaves)
    }

    // MARK: The spec's example

    /// The example of C2SP tlog-proof as printed: its signatures are elided (`[...]`), so the note is refused.
    @Test func theSpecExampleAsPrintedHasElidedSignatures() throws {
        let error = try #require(throws: LedgerError.self) {
            try TlogProof(text: PolicyKit.fixture("tlog-proof-example.txt"))
        }
        #expect(error.code == .tlogProof)
        #expect(error.reason.contains("checkpoint"))
    }

    /// The example with its four elided signature lines replaced by real ones: every other byte is the spec's, and
    /// it parses into the spec's values and serializes back byte for byte.
    @Test func parsesTheSpecExampleWithRealSignatures() throws {
        let example = try PolicyKit.fixture("tlog-proof-example.txt")
        let kept = example.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("\u{2014}") }
        let text = kept.joined(separator: "\n") + "\n"
        let body = "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
        var note = SignedNote(text: body, signatures: [])
        try note.addSignature(by: PolicyKit.logSigner("example.com/fancylog"))
        for name in ["witness1.example", "witness2.example", "witness3.example"] {
            let signer = try CosignatureSigner(name: name, privateKey: TestKeys.key(name).cryptoKey)
            note.signatures.append(try signer.cosign(checkpointText: body, timestamp: 1_700_000_000))
        }
        let withSignatures = text + note.signatures.map(\.line).joined()
        let proof = try TlogProof(text: withSignatures)
        #expect(proof.extra == Base64.decodeCanonical("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ".utf8))
        #expect(proof.extra.map { Array($0.prefix(30)) } == Array("age-v1.2.1-darwin-arm64.tar.gz".utf8))
        #expect(proof.index == 73894)
        #expect(proof.proof.count == 5)
        #expect(Base64.encode(proof.proof[0].bytes) == "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
        #expect(Base64.encode(proof.proof[4].bytes) == "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=")
        let checkpoint = try Checkpoint(text: proof.checkpoint.text)
        #expect(checkpoint.origin == "example.com/fancylog")
        #expect(checkpoint.size == 109482)
        #expect(
            proof.checkpoint.signatures.map(\.name).suffix(3) == [
                "witness1.example", "witness2.example", "witness3.example",
            ]
        )
        #expect(proof.serialized == withSignatures)
        #expect(Array(proof.serialized.utf8) == Array(withSignatures.utf8))
    }

    // MARK: Round trip and verification

    @Test(arguments: [nil, [], Array("an entry's leaf bytes".utf8)] as [[UInt8]?])
    func roundTripsByteForByte(_ extra: [UInt8]?) throws {
        let (proof, _, _) = try Self.setup(extra: extra)
        let text = proof.serialized
        let parsed = try TlogProof(text: text)
        #expect(parsed == proof)
        #expect(parsed.serialized == text)
        #expect(text.hasPrefix("c2sp.org/tlog-proof@v1\n" + (extra == nil ? "index 3\n" : "extra ")))
    }

    @Test(arguments: 0..<10)
    func verifiesEveryLeaf(_ index: Int) throws {
        let (proof, policy, leaves) = try Self.setup(index: index)
        let verdict = try TlogProof(text: proof.serialized).verify(leafHash: leaves[index], policy: policy)
        #expect(verdict.isMet)
        #expect(verdict.cosignatures.count == 2)
    }

    // MARK: Attacks

    @Test func refusesAnotherLeafOrIndex() throws {
        let (proof, policy, leaves) = try Self.setup()
        for other in [0, 2, 4, 9] {
            let error = try #require(throws: LedgerError.self) {
                try proof.verify(leafHash: leaves[other], policy: policy)
            }
            #expect(error.code == .proof)
        }
        for index: UInt64 in [2, 4, 10, 11, UInt64.max] {
            var moved = proof
            moved.index = index
            let error = try #require(throws: LedgerError.self) { try moved.verify(leafHash: leaves[3], policy: policy) }
            #expect(error.code == .proof)
        }
    }

    @Test func refusesEveryBitFlipInTheProofHashes() throws {
        let (proof, policy, leaves) = try Self.setup()
        for line in proof.proof.indices {
            for byte in [0, 13, 31] {
                var hashes = proof.proof.map(\.bytes)
                hashes[line][byte] ^= 0x04
                var tampered = proof
                tampered.proof = hashes.compactMap { Hash256(bytes: $0) }
                #expect(throws: LedgerError.self) { try tampered.verify(leafHash: leaves[3], policy: policy) }
            }
        }
    }

    @Test func refusesTruncatedExtendedAndReorderedProofs() throws {
        let (proof, policy, leaves) = try Self.setup()
        #expect(proof.proof.count >= 3)
        var variants: [[Hash256]] = [
            Array(proof.proof.dropLast()), Array(proof.proof.dropFirst()), proof.proof + [leaves[0]], [],
        ]
        variants.append(proof.proof.reversed())
        var swapped = proof.proof
        swapped.swapAt(0, 1)
        variants.append(swapped)
        for hashes in variants {
            var tampered = proof
            tampered.proof = hashes
            #expect(throws: LedgerError.self) { try tampered.verify(leafHash: leaves[3], policy: policy) }
        }
    }

    @Test func refusesACheckpointWithoutItsQuorumOrWithBadSignatures() throws {
        let (proof, policy, leaves) = try Self.setup()
        var oneWitness = proof
        oneWitness.checkpoint.signatures.removeLast()
        let quorum = try #require(throws: LedgerError.self) {
            try oneWitness.verify(leafHash: leaves[3], policy: policy)
        }
        #expect(quorum.code == .witnessQuorum)
        #expect(quorum.reason.contains("missing: B"))
        var flipped = proof
        flipped.checkpoint.signatures[1].signature[2] ^= 1  // a bit of A's timestamp
        let bad = try #require(throws: LedgerError.self) { try flipped.verify(leafHash: leaves[3], policy: policy) }
        #expect(bad.code == .badCosignature)
        var noLog = proof
        noLog.checkpoint.signatures.removeFirst()
        let unsigned = try #require(throws: LedgerError.self) { try noLog.verify(leafHash: leaves[3], policy: policy) }
        #expect(unsigned.code == .checkpoint)
    }

    /// A split view: a second tree of the same size, signed by the log and cosigned by the witnesses under coercion
    /// would be needed; with the first tree's cosignatures moved onto it, it is refused.
    @Test func refusesAForkedCheckpointCarryingTheRealCosignatures() throws {
        let (proof, policy, _) = try Self.setup()
        let forkLeaves = (0..<10).map { MerkleTree.leafHash(Array("forked \($0)".utf8)) }
        let fork = Checkpoint(origin: PolicyKit.origin, size: 10, root: MerkleTree.root(of: forkLeaves))
        var note = SignedNote(text: fork.text, signatures: [])
        try note.addSignature(by: PolicyKit.logSigner())
        note.signatures += proof.checkpoint.signatures.dropFirst()
        let forked = TlogProof(
            index: 3,
            proof: try MerkleTree.inclusionProof(leafIndex: 3, leafHashes: forkLeaves),
            checkpoint: note
        )
        let error = try #require(throws: LedgerError.self) {
            try forked.verify(leafHash: forkLeaves[3], policy: policy)
        }
        #expect(error.code == .badCosignature)
    }

    // MARK: Strict parsing

    @Test(arguments: TlogProofCase.all)
    func refusesMalformedProofs(_ bad: TlogProofCase) throws {
        let (proof, _, _) = try Self.setup(extra: [1, 2, 3])
        let text = bad.mangle(proof.serialized)
        let error = try #require(throws: LedgerError.self) { try TlogProof(text: text) }
        #expect(error.code == .tlogProof)
        #expect(error.reason.contains(bad.reason), "\(error.reason)")
    }

    @Test func refusesNonUTF8AndOversizedInput() throws {
        let (proof, _, _) = try Self.setup()
        var bytes = Array(proof.serialized.utf8)
        bytes.insert(0xFF, at: bytes.count - 5)
        #expect(throws: LedgerError.self) { try TlogProof(bytes: bytes) }
        let big = TlogProof(
            extra: [UInt8](repeating: 7, count: TlogProof.maximumSize),
            index: 3,
            proof: proof.proof,
            checkpoint: proof.checkpoint
        )
        let error = try #require(throws: LedgerError.self) { try TlogProof(text: big.serialized) }
        #expect(error.reason.contains("at most"))
    }

    @Test func acceptsSixtyThreeProofLinesAndNoMore() throws {
        let (proof, _, _) = try Self.setup()
        var long = proof
        long.proof = Array(repeating: proof.proof[0], count: 63)
        #expect(try TlogProof(text: long.serialized) == long)
        long.proof.append(proof.proof[0])
        let error = try #require(throws: LedgerError.self) { try TlogProof(text: long.serialized) }
        #expect(error.reason.contains("more than 63"))
    }
}

/// A way to break a serialized proof, and a phrase of the error it must give.
struct TlogProofCase: Sendable, CustomTestStringConvertible {
    let name: String
    let reason: String
    let mangle: @Sendable (String) -> String

    var testDescription: String { name }

    private static func replacing(_ old: String, _ new: String) -> @Sendable (String) -> String {
        { text in
            guard let range = text.range(of: old) else { return "unchanged: \(old) not found" }
            return text.replacingCharacters(in: range, with: new)
        }
    }

    static let all: [TlogProofCase] = [
        .init(name: "other version", reason: "first line", mangle: replacing("tlog-proof@v1\n", "tlog-proof@v2\n")),
        .init(name: "trailing space in header", reason: "first line", mangle: replacing("@v1\n", "@v1 \n")),
        .init(name: "CRLF", reason: "first line", mangle: replacing("@v1\n", "@v1\r\n")),
        .init(name: "only a header", reason: "ends after", mangle: { _ in "c2sp.org/tlog-proof@v1\n" }),
        .init(name: "empty", reason: "first line", mangle: { _ in "" }),
        .init(name: "extra not canonical base64", reason: "extra", mangle: replacing("extra AQID\n", "extra AQIDBA\n")),
        .init(name: "extra URL-safe", reason: "extra", mangle: replacing("extra AQID\n", "extra AQ-_\n")),
        .init(name: "extra without space", reason: "index line", mangle: replacing("extra AQID\n", "extraAQID\n")),
        .init(
            name: "extra after index",
            reason: "proof line 1",
            mangle: replacing("extra AQID\nindex 3\n", "index 3\nextra AQID\n")
        ),
        .init(name: "no index", reason: "index line", mangle: replacing("index 3\n", "")),
        .init(name: "index leading zero", reason: "index line", mangle: replacing("index 3\n", "index 03\n")),
        .init(name: "index negative", reason: "index line", mangle: replacing("index 3\n", "index -3\n")),
        .init(name: "index plus", reason: "index line", mangle: replacing("index 3\n", "index +3\n")),
        .init(name: "index two spaces", reason: "index line", mangle: replacing("index 3\n", "index  3\n")),
        .init(
            name: "index above 2^64",
            reason: "index line",
            mangle: replacing("index 3\n", "index 18446744073709551616\n")
        ),
        .init(name: "Index capitalised", reason: "index line", mangle: replacing("index 3\n", "Index 3\n")),
        .init(
            name: "short hash",
            reason: "proof line 1",
            mangle: { text in
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines[3] = String(lines[3].dropLast(4))
                return lines.joined(separator: "\n")
            }
        ),
        .init(
            name: "hash unpadded",
            reason: "proof line 2",
            mangle: { text in
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines[4] = String(lines[4].dropLast())
                return lines.joined(separator: "\n")
            }
        ),
        .init(
            name: "no blank line",
            reason: "proof line",
            mangle: { text in
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines.remove(at: lines.firstIndex(of: "") ?? 0)
                return lines.joined(separator: "\n")
            }
        ),
        .init(name: "two blank lines", reason: "checkpoint", mangle: replacing("\n\n", "\n\n\n")),
        .init(name: "no note", reason: "checkpoint", mangle: { text in String(text.prefix { $0 != "\u{2014}" }) }),
        .init(name: "cut mid signature", reason: "checkpoint", mangle: { text in String(text.dropLast(10)) }),
        .init(name: "trailing newline", reason: "checkpoint", mangle: { $0 + "\n" }),
        .init(name: "not a checkpoint", reason: "checkpoint", mangle: replacing("\n10\n", "\nten\n")),
    ]
}
