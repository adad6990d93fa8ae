public import LedgerCore

/// Signed checkpoints and Merkle proofs of a stored log, as JSON documents: what `ledger checkpoint`, `ledger
/// prove … --json` and `ledger serve` hand out. Every hash is recomputed from the stored leaves, never read from a
/// stored hash column. That reads the whole tree's leaves per call: O(n), fine for the logs a pipeline keeps.
public enum LogProofs {
    /// Signs a checkpoint of the whole log with `signer`, which must be an active log key of `state`, and keeps it
    /// in the store. Returns `{"logId","size","root","note"}`.
    ///
    /// - Throws: `authority.role` if `signer` is not an active log key.
    public static func checkpoint(
        store: any EventStore,
        state: LedgerState,
        signer: SigningKey
    ) async throws(LedgerError) -> JSONValue {
        let leafHashes = try await store.leaves(upTo: state.size).map { MerkleTree.leafHash($0) }
        let (checkpoint, note) = try signedCheckpoint(leafHashes: leafHashes, state: state, signer: signer)
        try await store.keepCheckpoint(note.serialized, size: checkpoint.size)
        return [
            "logId": .string(checkpoint.origin), "size": .int(checkpoint.size), "root": .string(checkpoint.root.hex),
            "note": .string(note.serialized),
        ]
    }

    /// A checkpoint of the tree of `leafHashes` signed by `signer`, which must be an active log key of `state`; not
    /// kept. The caller computes the hashes from the stored leaves' bytes, never from a stored hash column.
    ///
    /// - Throws: `authority.role` if `signer` is not an active log key; `chain.checkpoint` if it cannot sign.
    public static func signedCheckpoint(
        leafHashes: [Hash256],
        state: LedgerState,
        signer: SigningKey
    ) throws(LedgerError) -> (checkpoint: Checkpoint, note: SignedNote) {
        guard let record = state.keyring[signer.keyID], record.isActive, record.roles.contains(.log) else {
            throw LedgerError(
                .roleNotAllowed,
                "the key \(signer.keyID.prefix(16))… is not an active log key of this log"
            )
        }
        let origin = state.logID ?? ""
        let checkpoint = Checkpoint(
            origin: origin,
            size: UInt64(leafHashes.count),
            root: MerkleTree.root(of: leafHashes)
        )
        var note = SignedNote(text: checkpoint.text, signatures: [])
        do {
            try note.addSignature(by: try NoteSigner(name: origin, privateKey: signer.cryptoKey))
        } catch {
            throw LedgerError(.checkpoint, "cannot sign the checkpoint: \(error)")
        }
        return (checkpoint, note)
    }

    /// The inclusion proof of `seq` in the tree of the first `size` entries (all of them by default).
    ///
    /// - Throws: `argument.invalid` for a size beyond the log or a seq outside the tree.
    public static func inclusion(
        store: any EventStore,
        seq: UInt64,
        size: UInt64?,
        logID: String
    ) async throws(LedgerError) -> JSONValue {
        let logSize = try await store.size()
        let treeSize = size ?? logSize
        guard treeSize <= logSize else {
            throw LedgerError(.invalidArgument, "size \(treeSize) is beyond the log's \(logSize) entries")
        }
        guard seq < treeSize else {
            throw LedgerError(.invalidArgument, "seq \(seq) is not in a tree of \(treeSize) entries")
        }
        let hashes = try await store.leaves(upTo: treeSize).map { MerkleTree.leafHash($0) }
        let proof: [Hash256]
        do { proof = try MerkleTree.inclusionProof(leafIndex: Int(seq), leafHashes: hashes) } catch {
            throw LedgerError(.invalidArgument, "\(error)")
        }
        return [
            "type": "inclusion", "logId": .string(logID), "seq": .int(seq), "size": .int(treeSize),
            "leafHash": .string(hashes[Int(seq)].hex), "root": .string(MerkleTree.root(of: hashes).hex),
            "proof": .array(proof.map { .string($0.hex) }),
        ]
    }

    /// The consistency proof between the trees of the first `from` and the first `to` entries.
    ///
    /// - Throws: `argument.invalid` unless `from <= to <= size`.
    public static func consistency(
        store: any EventStore,
        from old: UInt64,
        to new: UInt64,
        logID: String
    ) async throws(LedgerError) -> JSONValue {
        let logSize = try await store.size()
        guard new <= logSize else {
            throw LedgerError(.invalidArgument, "to \(new) is beyond the log's \(logSize) entries")
        }
        guard old <= new else { throw LedgerError(.invalidArgument, "from \(old) is after to \(new)") }
        let hashes = try await store.leaves(upTo: new).map { MerkleTree.leafHash($0) }
        let proof: [Hash256]
        do { proof = try MerkleTree.consistencyProof(oldSize: Int(old), leafHashes: hashes) } catch {
            throw LedgerError(.invalidArgument, "\(error)")
        }
        return [
            "type": "consistency", "logId": .string(logID), "from": .int(old), "to": .int(new),
            "fromRoot": .string(MerkleTree.root(of: hashes.prefix(Int(old))).hex),
            "toRoot": .string(MerkleTree.root(of: hashes).hex), "proof": .array(proof.map { .string($0.hex) }),
        ]
    }
}
