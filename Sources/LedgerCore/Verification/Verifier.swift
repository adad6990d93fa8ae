import Dispatch

/// An event that the ``Verifier`` checked against everything before it in its log.
///
/// Only the verifier can create one, so code that takes a `VerifiedEvent` (the projections) cannot
/// be handed an unchecked event by mistake.
public struct VerifiedEvent: Sendable, Hashable {
    public let signed: SignedEvent
    public var event: Event { signed.event }

    fileprivate init(_ signed: SignedEvent) { self.signed = signed }
}

/// Why a log failed verification: the first bad seq and a stable code with a human reason.
public struct VerificationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The first entry that is wrong, or nil when no single entry can be blamed.
    public let seq: UInt64?
    public let code: LedgerError.Code
    public let reason: String

    public init(seq: UInt64?, code: LedgerError.Code, reason: String) {
        self.seq = seq
        self.code = code
        self.reason = reason
    }

    public var description: String {
        seq.map { "seq \($0): \(reason)" } ?? reason
    }
}

/// A tree head the log must hold, kept outside the log: its size, its root, and what it is, for messages.
public struct KnownHead: Sendable, Hashable {
    public let size: UInt64
    public let root: Hash256
    /// Names the head in a failure, such as "the head record ledger.head".
    public let source: String

    public init(size: UInt64, root: Hash256, source: String) {
        self.size = size
        self.root = root
        self.source = source
    }
}

/// The result of replaying a log.
public struct VerificationReport: Sendable {
    /// Entries read.
    public let entries: Int
    /// The RFC 9162 root over all entries read.
    public let root: Hash256
    /// The genesis leaf hash (the trust anchor), if seq 0 decoded.
    public let genesis: Hash256?
    /// Verified entries per event type (entries before the first failure).
    public let countsByType: [String: Int]
    /// Checkpoints whose signature and root both held.
    public let checkpointsVerified: Int
    /// The first failure, or nil if everything verified.
    public let failure: VerificationFailure?
    /// The state where the fold stopped. Signatures are checked alongside the fold, so after a
    /// bad signature this state may include later entries: rely on it only when ``isVerified``.
    public let state: LedgerState
    /// Every event, when asked for with `keepEvents` and verification succeeded.
    public let events: [VerifiedEvent]

    public var isVerified: Bool { failure == nil }

    /// This report with `failure` as its verdict, for a check made outside the replay (a store's columns).
    public func failing(_ failure: VerificationFailure) -> VerificationReport {
        VerificationReport(
            entries: entries,
            root: root,
            genesis: genesis,
            countsByType: [:],
            checkpointsVerified: checkpointsVerified,
            failure: failure,
            state: state,
            events: []
        )
    }
}

/// Replays a log from its leaf bytes and checks every rule of DESIGN.md, "Trust and authority".
///
/// Per entry it checks, in this order: the envelope is canonical JSON; its keyid is in the keyring;
/// the Ed25519 signature over the PAE verifies; the payload decodes; then seq, origin, prev, time,
/// type, schema, key status, role and the type's own rules (``LedgerState/check(_:signer:)``).
/// The first failing entry is reported. Parsing and signature checks run on `concurrency` threads;
/// the fold itself is sequential.
public struct Verifier: Sendable {
    /// The genesis leaf hash the log must start with, if the caller trusts one.
    public var trustedGenesis: Hash256?
    /// Signed checkpoints (C2SP notes) the log must be consistent with.
    public var checkpoints: [String]
    /// Tree heads the log must hold and match, kept outside the log (a workspace's head record): unsigned, so they
    /// bind only whoever kept them.
    public var heads: [KnownHead]
    public var concurrency: Int
    public var keepEvents: Bool

    public init(
        trustedGenesis: Hash256? = nil,
        checkpoints: [String] = [],
        heads: [KnownHead] = [],
        concurrency: Int = 1,
        keepEvents: Bool = false
    ) {
        self.trustedGenesis = trustedGenesis
        self.checkpoints = checkpoints
        self.heads = heads
        self.concurrency = max(1, concurrency)
        self.keepEvents = keepEvents
    }

    private struct Decoded: Sendable {
        var envelope: Envelope?
        var signed: SignedEvent?
        var leafHash: Hash256
        var envelopeError: LedgerError?
        var payloadError: LedgerError?
        /// A stored index column that disagrees with the signed bytes (``verify(entries:)`` only).
        var columnMismatch: String?
    }

    public func verify(leaves: [[UInt8]]) -> VerificationReport {
        verify(leaves: leaves, storedAs: nil)
    }

    /// Verifies the entries a store returned, and in the same decoding pass checks the index columns it keeps beside
    /// each envelope (seq, leaf hash, type, time, actor) against the signed bytes. Nothing decides on those columns,
    /// but an edited one would mislead whoever queries the table: a log that verifies with an edited column fails
    /// with `store.failure` at the first such seq.
    public func verify(entries: [LogEntry]) -> VerificationReport {
        verify(leaves: entries.map(\.leaf), storedAs: entries)
    }

    private func verify(leaves: [[UInt8]], storedAs entries: [LogEntry]?) -> VerificationReport {
        let decoded = parallelMap(leaves.count) { index in
            var decoded = Self.decode(leaves[index])
            if let entries, let signed = decoded.signed {
                decoded.columnMismatch = Self.columnMismatch(entries[index], signed)
            }
            return decoded
        }
        let keys = Self.keysNamed(in: decoded)

        // The sequential fold and the signature checks are independent: a signature is checked
        // against the key its keyid names anywhere in the log, and the fold decides whether that
        // key was active and allowed at that seq. So the fold runs on one thread while the others
        // check signatures, and the two verdicts are merged below.
        let fold = FoldResult()
        let signatureValid = parallelMap(
            leaves.count,
            alongside: { fold.run(decoded, trustedGenesis: trustedGenesis) },
            { index in Self.signatureHolds(decoded[index], keys: keys) }
        )

        var failure: VerificationFailure?
        let foldFailure = fold.failure
        var counts = fold.counts
        if let firstBadSignature = signatureValid.firstIndex(of: false),
            firstBadSignature < foldFailure?.seq ?? Int.max
                || (firstBadSignature == foldFailure?.seq && foldFailure?.beforeSignature == false)
        {
            failure = VerificationFailure(
                seq: UInt64(firstBadSignature),
                code: .badSignature,
                reason: "the signature does not verify under its key"
            )
        } else if let foldFailure {
            failure = VerificationFailure(
                seq: UInt64(foldFailure.seq),
                code: foldFailure.error.code,
                reason: foldFailure.error.reason
            )
        }
        if failure == nil, let index = decoded.firstIndex(where: { $0.columnMismatch != nil }) {
            failure = VerificationFailure(
                seq: UInt64(index),
                code: .storage,
                reason: decoded[index].columnMismatch ?? ""
            )
        }
        if failure == nil, leaves.isEmpty {
            failure = VerificationFailure(
                seq: nil,
                code: .malformed,
                reason: "the log is empty: it has no genesis event"
            )
        }

        let leafHashes = decoded.map(\.leafHash)
        var checkpointsVerified = 0
        if failure == nil {
            switch verifyCheckpoints(leafHashes: leafHashes, state: fold.state) {
            case .success(let count): checkpointsVerified = count
            case .failure(let checkpointFailure): failure = checkpointFailure
            }
        }
        if failure != nil { counts = [:] }
        let events: [VerifiedEvent] =
            keepEvents && failure == nil ? decoded.compactMap { $0.signed.map(VerifiedEvent.init) } : []
        return VerificationReport(
            entries: leaves.count,
            root: MerkleTree.root(of: leafHashes),
            genesis: decoded.first?.signed?.leafHash,
            countsByType: counts,
            checkpointsVerified: checkpointsVerified,
            failure: failure,
            state: fold.state,
            events: events
        )
    }

    /// The sequential half of verification: the ``LedgerState`` fold up to the first failure.
    private final class FoldResult: @unchecked Sendable {
        // Written by one thread inside `parallelMap`, read only after it returns.
        var state = LedgerState()
        var counts: [String: Int] = [:]
        var failure: (seq: Int, error: LedgerError, beforeSignature: Bool)?

        func run(_ decoded: [Decoded], trustedGenesis: Hash256?) {
            for (index, entry) in decoded.enumerated() {
                // Genesis carries its own keys, so a changed genesis can only be caught by its hash.
                if index == 0, let trustedGenesis, entry.leafHash != trustedGenesis {
                    let error = LedgerError(
                        .trustAnchor,
                        "the genesis leaf hash \(entry.leafHash.hex) is not the trusted \(trustedGenesis.hex)"
                    )
                    failure = (index, error, true)
                    return
                }
                guard let envelope = entry.envelope else {
                    failure = (index, entry.envelopeError ?? LedgerError(.malformed, "unreadable entry"), true)
                    return
                }
                let signer: KeyRecord
                do {
                    signer = try state.signer(of: envelope, event: entry.signed?.event)
                } catch {
                    failure = (index, error, true)
                    return
                }
                do throws(LedgerError) {
                    guard let signed = entry.signed else {
                        throw entry.payloadError ?? LedgerError(.malformed, "unreadable payload")
                    }
                    try state.check(signed, signer: signer)
                    state.apply(signed)
                    counts[signed.event.type, default: 0] += 1
                } catch {
                    failure = (index, error, false)
                    return
                }
            }
        }
    }

    /// Every key the log names (genesis keys and `key.added`), by keyid. A keyid is the hash of
    /// its key, so the map cannot be poisoned: a record whose keyid does not match is skipped here
    /// and refused by the fold.
    private static func keysNamed(in decoded: [Decoded]) -> [KeyID: PublicKey] {
        var keys: [KeyID: PublicKey] = [:]
        for (index, entry) in decoded.enumerated() {
            guard let event = entry.signed?.event else { continue }
            if index == 0, event.is(.ledgerCreated) {
                for record in (try? LedgerState.genesisKeys(of: event)) ?? [] { keys[record.keyID] = record.publicKey }
            } else if event.is(.keyAdded), (try? EventCatalog.keyRecord.validate(event.data)) != nil,
                let data = try? event.decode(KeyAdded.self), let record = try? KeyRecord(data, addedAt: event.seq)
            {
                keys[record.keyID] = record.publicKey
            }
        }
        return keys
    }

    /// True unless the entry's one signature names a known key and fails to verify under it. Entries
    /// that cannot be checked (malformed, unknown key) are left to the fold to report.
    private static func signatureHolds(_ entry: Decoded, keys: [KeyID: PublicKey]) -> Bool {
        guard let envelope = entry.envelope, envelope.signatures.count == 1,
            let key = keys[envelope.signatures[0].keyID]
        else { return true }
        return envelope.isSigned(by: key)
    }

    /// Which of `entry`'s stored columns differs from `signed`, its decoded leaf, as a failure reason; nil if none.
    private static func columnMismatch(_ entry: LogEntry, _ signed: SignedEvent) -> String? {
        let event = signed.event
        let differing: (String, String, String)? =
            if event.seq != entry.seq {
                ("seq", "\(entry.seq)", "\(event.seq)")
            } else if entry.leafHash != signed.leafHash {
                ("leaf_hash", entry.leafHash.hex, signed.leafHash.hex)
            } else if !entry.type.hasSameBytes(as: event.type) {
                ("type", entry.type, event.type)
            } else if entry.time != event.time {
                ("time", entry.time.rfc3339, event.time.rfc3339)
            } else if !entry.actor.hasSameBytes(as: event.actor) {
                ("actor", entry.actor, event.actor)
            } else {
                nil
            }
        guard let (column, stored, actual) = differing else { return nil }
        return "the store's \(column) column says \(stored.debugDescription) but the signed entry says "
            + "\(actual.debugDescription): the database was edited"
    }

    private static func decode(_ leaf: [UInt8]) -> Decoded {
        let leafHash = MerkleTree.leafHash(leaf)
        let envelope: Envelope
        do throws(LedgerError) {
            if let canonical = Envelope.parseCanonicalLedgerLeaf(leaf) {
                // The fast path matches only canonical ledger envelopes.
                envelope = canonical
            } else {
                envelope = try Envelope(jsonBytes: leaf)
                guard envelope.canonicalBytes() == leaf else {
                    throw LedgerError(.malformed, "the entry is not the canonical JSON of its envelope")
                }
                guard envelope.payloadType.hasSameBytes(as: Envelope.eventPayloadType) else {
                    throw LedgerError(.malformed, "the payloadType is not \(Envelope.eventPayloadType)")
                }
            }
        } catch {
            return Decoded(leafHash: leafHash, envelopeError: error)
        }
        do {
            let event = try Event(canonicalBytes: envelope.payload)
            let signed = SignedEvent(envelope: envelope, event: event, leaf: leaf, leafHash: leafHash)
            return Decoded(envelope: envelope, signed: signed, leafHash: leafHash)
        } catch {
            return Decoded(envelope: envelope, leafHash: leafHash, payloadError: error)
        }
    }

    /// Parses a C2SP checkpoint note and checks that it names this log and carries a valid
    /// signature by a log key that was in force at its size (``LedgerState/logKeys(atSize:)``).
    /// Whether the log's entries match its root is for the caller to check.
    public static func authenticate(
        checkpoint text: String,
        state: LedgerState
    ) throws(VerificationFailure) -> (checkpoint: Checkpoint, signers: [NoteVerifier]) {
        let origin = state.logID ?? ""
        do {
            let note = try SignedNote.parse(text)
            let checkpoint = try Checkpoint(text: note.text)
            guard checkpoint.origin.hasSameBytes(as: origin) else {
                throw VerificationFailure(
                    seq: nil,
                    code: .checkpoint,
                    reason: "the checkpoint is for log \"\(checkpoint.origin)\", not \"\(origin)\""
                )
            }
            let verifiers = state.logKeys(atSize: checkpoint.size).compactMap {
                try? NoteVerifier(name: origin, publicKey: $0.publicKey.rawRepresentation)
            }
            return (checkpoint, try note.verify(with: verifiers))
        } catch let failure as VerificationFailure {
            throw failure
        } catch {
            throw VerificationFailure(seq: nil, code: .checkpoint, reason: "the checkpoint does not verify: \(error)")
        }
    }

    /// Checks each checkpoint's signature with the log's `log`-role keys (key name = origin), then every checkpoint's
    /// and known head's root against the entries.
    ///
    /// A log shorter than any of them was truncated: the failure names both sizes. A root that differs means the
    /// entries were changed after it was signed or recorded. A root fixes its whole prefix but says nothing of where
    /// inside it the change is, so the failure names the range between the largest head that still matches and the
    /// first that does not, and blames no single seq.
    private func verifyCheckpoints(leafHashes: [Hash256], state: LedgerState) -> Result<Int, VerificationFailure> {
        var expected: [(size: UInt64, root: Hash256, name: String)] = heads.map { ($0.size, $0.root, $0.source) }
        for text in checkpoints {
            do {
                let checkpoint = try Self.authenticate(checkpoint: text, state: state).checkpoint
                expected.append((checkpoint.size, checkpoint.root, "the signed checkpoint of size \(checkpoint.size)"))
            } catch {
                return .failure(error)
            }
        }
        guard !expected.isEmpty else { return .success(0) }
        expected.sort { $0.size < $1.size }
        let count = UInt64(leafHashes.count)
        if let longest = expected.last, longest.size > count {
            return .failure(
                VerificationFailure(
                    seq: count,
                    code: .checkpoint,
                    reason: "the log has \(count) entries, but \(longest.name) holds \(longest.size): entries "
                        + "\(count)..<\(longest.size) were deleted (truncated log)"
                )
            )
        }
        var frontier = MerkleFrontier()
        var lastMatchingSize: UInt64 = 0
        for head in expected {
            while frontier.size < Int(head.size) { frontier.append(leafHashes[frontier.size]) }
            guard frontier.root == head.root else {
                let range =
                    lastMatchingSize == 0
                    ? "somewhere in entries 0..<\(head.size)"
                    : "in entries \(lastMatchingSize)..<\(head.size) (the first \(lastMatchingSize) still match)"
                return .failure(
                    VerificationFailure(
                        seq: head.size - lastMatchingSize == 1 ? lastMatchingSize : nil,
                        code: .checkpoint,
                        reason: "the log's first \(head.size) entries do not have the root of \(head.name): history "
                            + "was rewritten \(range)"
                    )
                )
            }
            lastMatchingSize = head.size
        }
        return .success(checkpoints.count)
    }

    private func parallelMap<T: Sendable>(
        _ count: Int,
        alongside: (@Sendable () -> Void)? = nil,
        _ body: @Sendable (Int) -> T
    ) -> [T] {
        ParallelMap.map(count, concurrency: concurrency, alongside: alongside, body)
    }
}
