public import LedgerCore
public import LedgerStore
public import LedgerTransparency

/// A proof file that verified (`ledger prove verify`).
public struct ProofCheck: Sendable {
    /// What the proof claims, now checked against the roots it names.
    public let claim: ProofDocument.Claim
    /// The file's `type` member, as the file holds it.
    public let type: JSONValue?
    /// Whether a checkpoint signed by the log key attests the proof's tree (its size and root).
    public let authenticated: Bool

    /// Checks the proof file at `path` (written by `ledger prove … --json`) against the roots it names, and, given
    /// `checkpoint` and `logKey` (a hex key or an SPKI PEM file), that the checkpoint is signed by that key under its
    /// origin and signs exactly the proof's tree. Needs no workspace.
    ///
    /// - Throws: ``VerificationRefused`` if the proof or the checkpoint does not verify, or the checkpoint signs
    ///   another tree; `LedgerError` if a file cannot be read, the proof is not valid JSON (`malformed`) or not a
    ///   proof document, or the key cannot be loaded.
    public static func file(_ path: String, checkpoint: String?, logKey: String?) throws -> ProofCheck {
        let document: JSONValue
        do {
            document = try CanonicalJSON.parse(try Files.read(path, .proof))
        } catch let error as LedgerError {
            throw error
        } catch {
            throw LedgerError(.malformed, "\(path) is not valid JSON: \(error)")
        }
        let decoded: ProofDocument
        do {
            decoded = try ProofDocument(json: document)
        } catch {
            throw LedgerError(error.code, "\(path): \(error.reason)")
        }
        do {
            try decoded.verify()
        } catch {
            throw VerificationRefused(
                failure: VerificationFailure(seq: nil, code: .proof, reason: "the proof does not verify: \(error)")
            )
        }
        var authenticated = false
        if let checkpoint, let logKey {
            try authenticate(tree: decoded.tree, checkpoint: checkpoint, logKey: logKey)
            authenticated = true
        }
        return ProofCheck(claim: decoded.claim, type: document["type"], authenticated: authenticated)
    }

    /// Checks that `checkpoint` is signed by `logKey` (under the checkpoint's origin as key name)
    /// and that it signs exactly `tree`.
    private static func authenticate(tree: (size: Int, root: Hash256), checkpoint: String, logKey: String) throws {
        let key = try KeyFiles.loadPublicKey(logKey)
        let failure: VerificationFailure
        do {
            let note = try SignedNote.parse(try Files.readText(checkpoint, .checkpoint))
            let signed = try Checkpoint(text: note.text)
            _ = try note.verify(with: [try NoteVerifier(name: signed.origin, publicKey: key.rawRepresentation)])
            if signed.size == UInt64(tree.size), signed.root == tree.root { return }
            failure = VerificationFailure(
                seq: nil,
                code: .proof,
                reason:
                    "the checkpoint signs size \(signed.size) with another root; the proof is about size \(tree.size)"
            )
        } catch let error as LedgerError {
            throw error
        } catch {
            failure = VerificationFailure(
                seq: nil,
                code: .checkpoint,
                reason: "the checkpoint does not verify: \(error)"
            )
        }
        throw VerificationRefused(failure: failure)
    }
}

/// `c2sp.org/tlog-proof@v1` files: written by `ledger prove inclusion SEQ --format tlog-proof`, checked by
/// `ledger prove verify FILE --policy POLICY`.
public enum TlogProofs {
    /// The largest entry a proof carries as its extra data; a larger one is left out and the verifier must give its
    /// leaf hash.
    public static let maximumEmbeddedEntry = 64 * 1024

    /// Makes the proof that entry `seq` is in the log, from the latest kept checkpoint that covers it (the largest
    /// size above `seq`; among notes of one size the one with the most signatures), with the checkpoint's
    /// cosignatures. With `policy`, only checkpoints that meet its quorum are considered. The inclusion proof is
    /// computed from the store's leaves and checked against the checkpoint's root before it is returned, and the
    /// entry's leaf bytes are the proof's extra data when they fit in ``maximumEmbeddedEntry`` bytes.
    ///
    /// - Parameter state: the verified log's state; its `log`-role keys at the checkpoint's size must have signed it.
    /// - Throws: `argument.invalid` when no kept checkpoint covers `seq` (or none that meets the quorum); the
    ///   checkpoint's own verification failure as `chain.checkpoint`; `chain.checkpoint` when the store's entries do
    ///   not lead to the checkpoint's root; `store.failure` if the store cannot be read.
    public static func make(
        store: any EventStore,
        state: LedgerState,
        seq: UInt64,
        policy: WitnessPolicy?
    ) async throws(LedgerError) -> TlogProof {
        let kept = try await store.checkpoints().filter { $0.size > seq }
        var candidates: [(size: UInt64, note: SignedNote)] = []
        var refusals: [String] = []
        for (size, text) in kept {
            guard let note = try? SignedNote.parse(text) else { continue }
            do {
                _ = try Verifier.authenticate(checkpoint: text, state: state)
            } catch {
                refusals.append("size \(size): \(error.reason)")
                continue
            }
            if let policy {
                let known = state.logKeys(atSize: size).compactMap {
                    try? NoteVerifier(name: state.logID ?? "", publicKey: $0.publicKey.rawRepresentation)
                }
                do {
                    let verdict = try policy.evaluate(note, knownLogs: known)
                    guard verdict.isMet else {
                        refusals.append("size \(size): \(verdict.explanation)")
                        continue
                    }
                } catch {
                    refusals.append("size \(size): \(error.reason)")
                    continue
                }
            }
            candidates.append((size, note))
        }
        guard
            let chosen = candidates.max(by: {
                ($0.size, $0.note.signatures.count) < ($1.size, $1.note.signatures.count)
            })
        else {
            let why = refusals.isEmpty ? "" : " (" + refusals.suffix(3).joined(separator: "; ") + ")"
            throw LedgerError(
                .invalidArgument,
                "no kept checkpoint\(policy == nil ? "" : " that meets the policy's quorum") covers seq \(seq)\(why); "
                    + "run `ledger checkpoint` (with --witness for cosignatures) after it was appended"
            )
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint(text: chosen.note.text)
        } catch {
            throw LedgerError(.checkpoint, "the kept checkpoint of size \(chosen.size): \(error.reason)")
        }
        let leaves = try await store.leaves(upTo: checkpoint.size)
        guard UInt64(leaves.count) == checkpoint.size, seq < UInt64(leaves.count) else {
            throw LedgerError(
                .checkpoint,
                "the log has \(leaves.count) entries, fewer than the kept checkpoint's \(checkpoint.size)"
            )
        }
        let hashes = leaves.map { MerkleTree.leafHash($0) }
        let proof: [Hash256]
        do {
            proof = try MerkleTree.inclusionProof(leafIndex: Int(seq), leafHashes: hashes)
            try MerkleTree.verifyInclusion(
                leafHash: hashes[Int(seq)],
                leafIndex: Int(seq),
                treeSize: hashes.count,
                proof: proof,
                root: checkpoint.root
            )
        } catch {
            throw LedgerError(
                .checkpoint,
                "the log's first \(checkpoint.size) entries do not lead to the kept checkpoint's root: \(error.reason)"
            )
        }
        let entry = leaves[Int(seq)]
        return TlogProof(
            extra: entry.count <= maximumEmbeddedEntry ? entry : nil,
            index: seq,
            proof: proof,
            checkpoint: chosen.note
        )
    }

    /// Checks the tlog-proof file at `path` under `policy`, offline: the log signature, the quorum and the inclusion
    /// proof (``TlogProof/verify(leafHash:policy:knownLogs:)``). The leaf is the entry in the proof's extra data, or
    /// the one with `leafHash`; given both, they must agree.
    ///
    /// This proves inclusion only; whether the entry's signer had authority at that index needs the log before it.
    ///
    /// - Parameter logKey: the log's public key, used (named after the checkpoint's origin) when the policy lists no
    ///   log.
    /// - Throws: ``VerificationRefused`` when the file is not a tlog-proof, the extra data is not the entry with
    ///   `leafHash`, or the proof does not verify; `argument.invalid` when neither the proof nor the caller gives the
    ///   leaf; `LedgerError` if the file cannot be read.
    public static func check(
        _ path: String,
        policy: WitnessPolicy,
        leafHash: Hash256?,
        logKey: PublicKey?
    ) throws -> TlogProofCheck {
        let proof = try parse(try Files.read(path, .proof))
        let embedded = proof.extra.map { MerkleTree.leafHash($0) }
        if let embedded, let leafHash, embedded != leafHash {
            throw VerificationRefused(
                failure: VerificationFailure(
                    seq: nil,
                    code: .proof,
                    reason: "the entry in the proof's extra data has leaf hash \(embedded.hex), not \(leafHash.hex)"
                )
            )
        }
        guard let leaf = leafHash ?? embedded else {
            throw LedgerError(.invalidArgument, "\(path) carries no entry: give the entry's --leaf-hash")
        }
        var known: [NoteVerifier] = []
        if let logKey, let origin = try? Checkpoint(text: proof.checkpoint.text).origin,
            let verifier = try? NoteVerifier(name: origin, publicKey: logKey.rawRepresentation)
        {
            known.append(verifier)
        }
        do {
            let verdict = try proof.verify(leafHash: leaf, policy: policy, knownLogs: known)
            return TlogProofCheck(proof: proof, verdict: verdict, leafHash: leaf, entry: proof.extra)
        } catch {
            throw VerificationRefused(failure: VerificationFailure(seq: nil, code: error.code, reason: error.reason))
        }
    }

    /// A proof file's bytes parsed; a mangled file is a verdict on its bytes, not an I/O error.
    private static func parse(_ bytes: [UInt8]) throws(VerificationRefused) -> TlogProof {
        do {
            return try TlogProof(bytes: bytes)
        } catch {
            throw VerificationRefused(failure: VerificationFailure(seq: nil, code: error.code, reason: error.reason))
        }
    }
}

/// A tlog-proof that verified: the entry at ``proof``'s index is in the log the checkpoint signs, and the checkpoint
/// meets the policy's quorum.
public struct TlogProofCheck: Sendable {
    /// The proof as parsed.
    public let proof: TlogProof
    /// The policy's verdict on the proof's checkpoint (met).
    public let verdict: QuorumVerdict
    /// The leaf hash that was proven included.
    public let leafHash: Hash256
    /// The entry's leaf bytes, when the proof carries them.
    public let entry: [UInt8]?
}
