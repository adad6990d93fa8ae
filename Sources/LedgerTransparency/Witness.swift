public import LedgerCore

// A C2SP tlog-witness (https://c2sp.org/tlog-witness) without HTTP: the add-checkpoint checks, the durable record
// of the latest cosigned checkpoint per log, and the Ed25519 `cosignature/v1` it answers with.

/// What an add-checkpoint request came to. The HTTP layer maps each case to its status code; the CLI to an exit code.
public enum AddCheckpointOutcome: Sendable, Hashable {
    /// 200: the checkpoint is consistent with everything cosigned before; it is stored, and these are the
    /// witness's cosignature lines.
    case cosigned(signatures: [NoteSignature], checkpoint: Checkpoint)
    /// 400: the body is not an add-checkpoint request, the note is not a checkpoint, or the old size is larger than
    /// the checkpoint's.
    case badRequest(String)
    /// 403: no signature from a key trusted for the origin, or one from such a key that does not verify.
    case forbidden(String)
    /// 404: the witness trusts no key for this origin.
    case unknownOrigin(String)
    /// 409: the old size is not the size the witness last cosigned for the origin, which this is.
    case conflict(latestSize: UInt64)
    /// 422: the consistency proof does not verify, a proof was given from size 0, the root differs at the same size,
    /// or a size-0 checkpoint does not have the empty tree's root.
    case unprocessable(String)

    /// The response body: the signature lines for `cosigned`, `<size>\n` for `conflict`, otherwise the reason and a
    /// newline.
    public var body: [UInt8] {
        switch self {
        case .cosigned(let signatures, _): Array(signatures.map(\.line).joined().utf8)
        case .conflict(let size): Array("\(size)\n".utf8)
        case .badRequest(let reason), .forbidden(let reason), .unknownOrigin(let reason), .unprocessable(let reason):
            Array((reason + "\n").utf8)
        }
    }

    /// A short stable name: `cosigned`, `badRequest`, `forbidden`, `unknownOrigin`, `conflict` or `unprocessable`.
    public var name: String {
        switch self {
        case .cosigned: "cosigned"
        case .badRequest: "badRequest"
        case .forbidden: "forbidden"
        case .unknownOrigin: "unknownOrigin"
        case .conflict: "conflict"
        case .unprocessable: "unprocessable"
        }
    }

    /// One sentence for people.
    public var reason: String {
        switch self {
        case .cosigned(_, let checkpoint):
            "cosigned \(checkpoint.origin) at size \(checkpoint.size)"
        case .conflict(let size):
            "the witness last cosigned size \(size) of this log: send a consistency proof from \(size)"
        case .badRequest(let reason), .forbidden(let reason), .unknownOrigin(let reason), .unprocessable(let reason):
            reason
        }
    }
}

/// A transparency-log witness over a ``WitnessFolder``: it cosigns a log's checkpoint only if the log's signature
/// verifies with a key it trusts for the origin and the checkpoint is consistent with the latest one it cosigned
/// for that origin.
///
/// Requests are serialised: by the actor within a process, and by the folder's `flock` across processes (a
/// `ledger witness serve` and a `ledger witness cosign` on the same folder). The lock is held from reading the
/// stored checkpoint through its durable replacement, so two requests can never both be checked against the same
/// old state. The new checkpoint (with the cosignature about to be returned) is on disk before the answer leaves,
/// so a witness killed at any point never later cosigns a checkpoint inconsistent with one it answered or was about
/// to answer.
public actor Witness {
    /// The witness's folder.
    public nonisolated let folder: WitnessFolder
    /// The witness's public identity: its name and cosigner key, type 0x04.
    public nonisolated let cosigner: CosignatureVerifier
    private let signer: CosignatureSigner
    private let clock: any LedgerClock

    /// Opens the witness in `folder` with its private key; the name comes from the folder's configuration.
    ///
    /// - Parameter clock: the time of each cosignature, in POSIX seconds (milliseconds dropped).
    /// - Throws: `witness.state` when the configuration is missing or invalid, or its name is not a valid key name.
    public init(folder: WitnessFolder, key: SigningKey, clock: any LedgerClock) throws(LedgerError) {
        let configuration = try folder.configuration()
        do {
            self.signer = try CosignatureSigner(name: configuration.name, privateKey: key.cryptoKey)
        } catch {
            throw LedgerError(.witnessState, "the witness's name cannot sign: \(error.reason)")
        }
        self.cosigner = signer.verifier
        self.folder = folder
        self.clock = clock
    }

    /// Handles the body of a `POST /add-checkpoint` request, as tlog-witness specifies.
    ///
    /// - Returns: the outcome; only `cosigned` changed the stored state, and it was stored durably before this
    ///   returns.
    /// - Throws: `witness.state` when the folder cannot be read or written, or a stored checkpoint is torn or was
    ///   changed (the witness refuses to cosign rather than start over); nothing is cosigned then.
    public func addCheckpoint(_ body: some Collection<UInt8>) throws(LedgerError) -> AddCheckpointOutcome {
        let request: AddCheckpointRequest
        do { request = try AddCheckpointRequest.parse(body) } catch { return .badRequest(error.reason) }
        return try addCheckpoint(request)
    }

    /// Handles a parsed add-checkpoint request; see ``addCheckpoint(_:)-(some Collection<UInt8>)``.
    public func addCheckpoint(_ request: AddCheckpointRequest) throws(LedgerError) -> AddCheckpointOutcome {
        let note = request.checkpoint
        let textBytes = Array(note.text.utf8)
        let origin = String(decoding: textBytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let trusted = try folder.configuration().verifiers(for: origin)
        guard !trusted.isEmpty else {
            return .unknownOrigin("this witness does not know the log \(origin)")
        }
        let verified: [NoteVerifier]
        do { verified = try note.verify(with: trusted) } catch {
            return .forbidden("the checkpoint's log signature is refused: \(error.reason)")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: note.text) } catch { return .badRequest(error.reason) }
        guard request.oldSize <= checkpoint.size else {
            return .badRequest("the old size \(request.oldSize) is larger than the checkpoint's \(checkpoint.size)")
        }
        guard checkpoint.size != 0 || checkpoint.root == Self.emptyRoot else {
            return .unprocessable("a checkpoint of size 0 must have the empty tree's root")
        }
        guard request.oldSize != 0 || request.proof.isEmpty else {
            return .unprocessable("a consistency proof from size 0 must be empty")
        }
        guard checkpoint.size <= UInt64(Int.max) else {
            return .badRequest("the checkpoint's size is too large")
        }
        let originHash = WitnessFolder.originHash(origin)
        return try folder.withLock { () throws(LedgerError) -> AddCheckpointOutcome in
            let stored = try folder.storedCheckpoint(originHash: originHash, origin: origin, cosigner: cosigner)
            let storedSize = stored?.checkpoint.size ?? 0
            guard request.oldSize == storedSize else { return .conflict(latestSize: storedSize) }
            do throws(MerkleError) {
                try MerkleTree.verifyConsistency(
                    oldSize: Int(storedSize),
                    newSize: Int(checkpoint.size),
                    oldRoot: stored?.checkpoint.root ?? Self.emptyRoot,
                    newRoot: checkpoint.root,
                    proof: request.proof
                )
            } catch {
                return .unprocessable(
                    "the checkpoint is not consistent with size \(storedSize), the latest this witness cosigned: \(error.reason)"
                )
            }
            let timestamp = UInt64(max(0, clock.now().millisecondsSinceEpoch / 1000))
            let cosignature: NoteSignature
            do throws(NoteError) {
                cosignature = try signer.cosign(checkpointText: note.text, timestamp: timestamp)
            } catch {
                throw LedgerError(.witnessState, "cannot cosign: \(error.reason)")
            }
            // What the monitoring endpoint serves: the log signatures verified, then this witness's cosignature.
            let logSignatures = note.signatures.filter { signature in verified.contains { $0.matches(signature) } }
            let kept = SignedNote(text: note.text, signatures: logSignatures + [cosignature])
            try folder.storeCheckpoint(kept, origin: origin)
            return .cosigned(signatures: [cosignature], checkpoint: checkpoint)
        }
    }

    /// The latest checkpoint cosigned for the origin whose lowercase hex SHA-256 is `originHash`, with the log's
    /// signatures and this witness's cosignature (the monitoring endpoint's body); nil when there is none.
    ///
    /// - Throws: `witness.state` for a hash that is not 64 lowercase hex digits, or a stored file that is torn or
    ///   was changed.
    public func cosignedCheckpoint(originHash: String) throws(LedgerError) -> String? {
        try folder.withLock { () throws(LedgerError) in
            try folder.storedCheckpoint(originHash: originHash, cosigner: cosigner)?.note.serialized
        }
    }

    /// The root of the empty tree, SHA-256 of the empty string.
    static let emptyRoot = Hash256.sha256([UInt8]())
}

extension NoteVerifier {
    /// Whether this verifier is the one a signature line names (same name bytes and key ID).
    func matches(_ signature: NoteSignature) -> Bool {
        keyID == signature.keyID && name.utf8.elementsEqual(signature.name.utf8)
    }
}
