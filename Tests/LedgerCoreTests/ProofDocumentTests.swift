import LedgerCore
import Testing

/// `ProofDocument`: the proof file of `ledger prove … --json`, decoded and checked without a workspace.
@Suite("Proof documents")
struct ProofDocumentTests {
    static let leaves = (0..<13).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0)]) }

    static func inclusion(seq: Int = 5) throws -> JSONValue {
        let proof = try MerkleTree.inclusionProof(leafIndex: seq, leafHashes: leaves)
        return .object([
            "type": "inclusion", "seq": .number(Double(seq)), "size": .number(Double(leaves.count)),
            "leafHash": .string(leaves[seq].hex), "root": .string(MerkleTree.root(of: leaves).hex),
            "proof": .array(proof.map { .string($0.hex) }),
        ])
    }

    @Test("An inclusion and a consistency proof decode, name their tree and verify")
    func validProofs() throws {
        let inclusion = try ProofDocument(json: try Self.inclusion())
        try inclusion.verify()
        #expect(inclusion.tree.size == 13)
        #expect(inclusion.tree.root == MerkleTree.root(of: Self.leaves))

        let proof = try MerkleTree.consistencyProof(oldSize: 6, leafHashes: Self.leaves)
        let consistency = try ProofDocument(
            json: .object([
                "type": "consistency", "from": 6, "to": 13,
                "fromRoot": .string(MerkleTree.root(of: Self.leaves.prefix(6)).hex),
                "toRoot": .string(MerkleTree.root(of: Self.leaves).hex), "proof": .array(proof.map { .string($0.hex) }),
            ])
        )
        try consistency.verify()
        #expect(consistency.tree.size == 13)
    }

    @Test(
        "A malformed member is refused, naming it",
        arguments: [
            ("proof", JSONValue.string("x"), "no \"proof\" array"),
            ("proof", JSONValue.array(["zz"]), "a proof hash is not 64 hex characters"),
            ("type", JSONValue.string("exclusion"), "\"type\" must be \"inclusion\" or \"consistency\""),
            ("seq", JSONValue.number(-1), "\"seq\" is not a non-negative integer"),
            ("size", JSONValue.number(1.5), "\"size\" is not a non-negative integer"),
            ("root", JSONValue.string("abc"), "\"root\" is not a 64-hex hash"),
            ("leafHash", JSONValue.null, "\"leafHash\" is not a 64-hex hash"),
        ]
    )
    func malformed(member: String, value: JSONValue, reason: String) throws {
        guard case .object(var object) = try Self.inclusion() else { return }
        object[member] = value
        #expect(throws: LedgerError(.malformed, reason)) { try ProofDocument(json: .object(object)) }
    }

    @Test("A proof for another leaf, or sizes at the far end of Int, fail verification without a crash")
    func wrongProofs() throws {
        guard case .object(var object) = try Self.inclusion() else { return }
        object["leafHash"] = .string(Self.leaves[6].hex)
        #expect(throws: MerkleError.self) { try ProofDocument(json: .object(object)).verify() }
        object["size"] = 9_007_199_254_740_992
        object["seq"] = 9_007_199_254_740_991
        #expect(throws: MerkleError.self) { try ProofDocument(json: .object(object)).verify() }
    }
}
