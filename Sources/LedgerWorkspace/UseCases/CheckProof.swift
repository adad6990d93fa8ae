public import LedgerCore

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
