/// A proof file as `ledger prove … --json` writes it and `ledger prove verify` reads it: an RFC 9162 inclusion or
/// consistency proof with the sizes and roots it speaks of, every hash in hex.
///
/// Decoding checks only the shape. The proof holds only once ``verify()`` returns, and even then only against the
/// roots the file names: a caller that trusts a root MUST compare ``tree`` with it (as `--checkpoint` does).
public struct ProofDocument: Sendable, Hashable {
    /// What the proof shows, with the sizes and hashes it is checked against.
    public enum Claim: Sendable, Hashable {
        /// The leaf `leafHash` is entry `seq` of the tree of `size` entries whose root is `root`.
        case inclusion(seq: Int, size: Int, leafHash: Hash256, root: Hash256)
        /// The tree of `from` entries with root `fromRoot` is a prefix of the tree of `to` with root `toRoot`.
        case consistency(from: Int, to: Int, fromRoot: Hash256, toRoot: Hash256)
    }

    public let claim: Claim
    /// The proof's hashes, in RFC 9162 order (bottom-up).
    public let proof: [Hash256]

    /// Decodes a proof file's JSON.
    ///
    /// - Throws: `event.malformed` whose reason names the member (never its value) for: no `proof` array, a proof
    ///   hash that is not 64 hex characters, a `type` other than `inclusion` or `consistency`, a size or seq that is
    ///   not a non-negative integer, and a hash that is not 64 hex characters.
    public init(json document: JSONValue) throws(LedgerError) {
        func hash(_ key: String) throws(LedgerError) -> Hash256 {
            guard let text = document[key]?.stringValue, let value = Hash256(hex: text) else {
                throw LedgerError(.malformed, "\"\(key)\" is not a 64-hex hash")
            }
            return value
        }
        func count(_ key: String) throws(LedgerError) -> Int {
            guard let value = document[key]?.integerValue, value >= 0 else {
                throw LedgerError(.malformed, "\"\(key)\" is not a non-negative integer")
            }
            return Int(value)
        }
        guard let items = document["proof"]?.arrayValue else {
            throw LedgerError(.malformed, "no \"proof\" array")
        }
        var proof: [Hash256] = []
        for item in items {
            guard let value = item.stringValue.flatMap(Hash256.init(hex:)) else {
                throw LedgerError(.malformed, "a proof hash is not 64 hex characters")
            }
            proof.append(value)
        }
        switch document["type"]?.stringValue {
        case "inclusion":
            let (seq, size) = (try count("seq"), try count("size"))
            let root = try hash("root")
            claim = .inclusion(seq: seq, size: size, leafHash: try hash("leafHash"), root: root)
        case "consistency":
            let (from, to) = (try count("from"), try count("to"))
            let toRoot = try hash("toRoot")
            claim = .consistency(from: from, to: to, fromRoot: try hash("fromRoot"), toRoot: toRoot)
        default:
            throw LedgerError(.malformed, "\"type\" must be \"inclusion\" or \"consistency\"")
        }
        self.proof = proof
    }

    /// The tree the proof speaks of: the size and root of the (newer) tree.
    public var tree: (size: Int, root: Hash256) {
        switch claim {
        case .inclusion(_, let size, _, let root): (size, root)
        case .consistency(_, let to, _, let toRoot): (to, toRoot)
        }
    }

    /// Checks the proof against the sizes and roots it names.
    ///
    /// - Throws: as `MerkleTree.verifyInclusion` or `MerkleTree.verifyConsistency`.
    public func verify() throws(MerkleError) {
        switch claim {
        case .inclusion(let seq, let size, let leafHash, let root):
            try MerkleTree.verifyInclusion(leafHash: leafHash, leafIndex: seq, treeSize: size, proof: proof, root: root)
        case .consistency(let from, let to, let fromRoot, let toRoot):
            try MerkleTree.verifyConsistency(
                oldSize: from,
                newSize: to,
                oldRoot: fromRoot,
                newRoot: toRoot,
                proof: proof
            )
        }
    }
}
