public import LedgerCore

// C2SP tlog-proof (https://c2sp.org/tlog-proof, `c2sp.org/tlog-proof@v1`): an offline proof that an entry is in a
// log, made of the entry's index, its inclusion proof and the (cosigned) checkpoint the proof leads to.

extension LedgerError.Code {
    /// A tlog-proof file that cannot be parsed.
    public static let tlogProof = Self(rawValue: "proof.tlogProof")
}

/// A `c2sp.org/tlog-proof@v1` proof: optional extra data, the entry's index, its RFC 6962 inclusion proof and the
/// checkpoint signed note, verbatim.
///
/// The text is:
///
/// ```
/// c2sp.org/tlog-proof@v1
/// extra <base64>          (optional)
/// index <n>
/// <base64 hash>           (0 to 63 lines, the leaf's sibling first)
///
/// <checkpoint signed note>
/// ```
///
/// Parsing is strict, so that a parsed proof serializes back to the same bytes. The extra data is not authenticated:
/// ModelLedger puts the entry's leaf bytes there, and a verifier must recompute the leaf hash from data it trusts or
/// check that hash against the proof (``verify(leafHash:policy:knownLogs:)``).
public struct TlogProof: Sendable, Hashable {
    /// The first line.
    public static let header = "c2sp.org/tlog-proof@v1"
    /// The most proof hashes a proof may carry (a tree of at most 2^63 leaves needs no more).
    public static let maximumProofLength = 63
    /// The largest proof text accepted, in bytes (room for an entry of 64 KiB as base64 extra data and a checkpoint
    /// with 100 signatures).
    public static let maximumSize = 256 * 1024

    /// The opaque extra data, or nil when the proof has no `extra` line. Not authenticated.
    public var extra: [UInt8]?
    /// The entry's zero-based index in the log.
    public var index: UInt64
    /// The inclusion proof, bottom-up (RFC 6962 §2.1.1).
    public var proof: [Hash256]
    /// The checkpoint the proof leads to, with the log's signature and any cosignatures.
    public var checkpoint: SignedNote

    /// Creates a proof from its parts.
    public init(extra: [UInt8]? = nil, index: UInt64, proof: [Hash256], checkpoint: SignedNote) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// Parses a proof's text.
    ///
    /// - Throws: as ``init(bytes:)``.
    public init(text: String) throws(LedgerError) {
        try self.init(bytes: Array(text.utf8))
    }

    /// Parses a proof.
    ///
    /// - Throws: `proof.tlogProof`, saying what is wrong, for: more than ``maximumSize`` bytes; bytes that are not
    ///   UTF-8; a first line other than ``header``; an `extra` line that is not standard padded base64; no `index`
    ///   line, or an index that is not ASCII decimal without leading zeros below 2^64; a proof line that is not
    ///   standard padded base64 of 32 bytes; more than 63 proof lines; no blank line before the checkpoint; a
    ///   checkpoint that is not a signed note of a tlog-checkpoint, or that does not serialize back to the same
    ///   bytes.
    public init(bytes: some Collection<UInt8>) throws(LedgerError) {
        let text = Array(bytes)
        guard text.count <= Self.maximumSize else {
            throw proofError("the proof has \(text.count) bytes; at most \(Self.maximumSize) are accepted")
        }
        guard String(validating: text, as: UTF8.self) != nil else { throw proofError("the proof is not UTF-8") }
        var reader = LineReader(bytes: text)
        guard let first = reader.next(), first.elementsEqual(Self.header.utf8) else {
            throw proofError("the first line is not \(Self.header)")
        }
        guard var line = reader.next() else { throw proofError("the proof ends after its first line") }
        if line.starts(with: "extra ".utf8) {
            guard let decoded = Base64.decodeCanonical(line.dropFirst(6)) else {
                throw proofError("the extra line is not standard padded base64")
            }
            extra = decoded
            guard let next = reader.next() else { throw proofError("no index line") }
            line = next
        } else {
            extra = nil
        }
        guard line.starts(with: "index ".utf8), let index = tlogProofDecimal(line.dropFirst(6)) else {
            throw proofError("the index line is not `index <n>` in decimal without leading zeros")
        }
        self.index = index
        var hashes: [Hash256] = []
        while true {
            guard let line = reader.next() else { throw proofError("no blank line before the checkpoint") }
            if line.isEmpty { break }
            guard hashes.count < Self.maximumProofLength else {
                throw proofError("more than \(Self.maximumProofLength) proof hashes")
            }
            guard let decoded = Base64.decodeCanonical(line), let hash = Hash256(bytes: decoded) else {
                throw proofError("proof line \(hashes.count + 1) is not standard padded base64 of a 32-byte hash")
            }
            hashes.append(hash)
        }
        proof = hashes
        let noteBytes = reader.rest
        let note: SignedNote
        do {
            note = try SignedNote.parse(utf8: noteBytes)
            _ = try Checkpoint(text: note.text)
        } catch {
            throw proofError("the checkpoint is not a signed checkpoint note: \(error.reason)")
        }
        guard note.serialized.utf8.elementsEqual(noteBytes) else {
            throw proofError("the checkpoint note is not in its one serialized form")
        }
        checkpoint = note
    }

    /// The proof's text, as ``init(bytes:)`` accepts it.
    public var serialized: String {
        var lines = [Self.header]
        if let extra { lines.append("extra " + Base64.encode(extra)) }
        lines.append("index \(index)")
        lines += proof.map { Base64.encode($0.bytes) }
        return lines.map { $0 + "\n" }.joined() + "\n" + checkpoint.serialized
    }

    /// Verifies, offline, that the leaf with hash `leafHash` is at ``index`` in the log the checkpoint signs, and that
    /// the checkpoint counts under `policy`: its log signature, its cosignatures and the quorum
    /// (``WitnessPolicy/evaluate(_:knownLogs:)``), then the inclusion proof against its root.
    ///
    /// This proves inclusion only. Whether the entry's signer had authority at that index needs the log before it.
    ///
    /// - Parameter knownLogs: the log keys known from context, used when the policy lists no log.
    /// - Returns: the policy's verdict on the checkpoint (met).
    /// - Throws: as ``WitnessPolicy/evaluate(_:knownLogs:)``; `witness.quorum` when the quorum is not met;
    ///   `proof.invalid` when the index is not below the checkpoint's size or the inclusion proof does not lead from
    ///   `leafHash` to the checkpoint's root.
    @discardableResult
    public func verify(
        leafHash: Hash256,
        policy: WitnessPolicy,
        knownLogs: [NoteVerifier] = []
    ) throws(LedgerError) -> QuorumVerdict {
        let verdict = try policy.evaluate(checkpoint, knownLogs: knownLogs).requireQuorum()
        let tree = verdict.checkpoint
        guard index < tree.size, let leafIndex = Int(exactly: index), let treeSize = Int(exactly: tree.size) else {
            throw LedgerError(.proof, "index \(index) is not in the checkpoint's tree of size \(tree.size)")
        }
        do {
            try MerkleTree.verifyInclusion(
                leafHash: leafHash,
                leafIndex: leafIndex,
                treeSize: treeSize,
                proof: proof,
                root: tree.root
            )
        } catch {
            throw LedgerError(
                .proof,
                "the inclusion proof of index \(index) does not lead to the root of the checkpoint of size "
                    + "\(tree.size): \(error.reason)"
            )
        }
        return verdict
    }
}

private func proofError(_ reason: String) -> LedgerError {
    LedgerError(.tlogProof, "tlog-proof: " + reason)
}

/// ASCII decimal, no sign, no leading zeros unless the number is 0, at most UInt64.max.
private func tlogProofDecimal(_ digits: some Collection<UInt8>) -> UInt64? {
    guard let first = digits.first, first != UInt8(ascii: "0") || digits.count == 1, digits.count <= 20 else {
        return nil
    }
    var value: UInt64 = 0
    for digit in digits {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
        guard !overflow1, !overflow2 else { return nil }
        value = sum
    }
    return value
}

/// Reads newline-terminated lines from the start of a byte buffer; ``rest`` is what follows the last line read.
private struct LineReader {
    let bytes: [UInt8]
    var position = 0

    /// The next line without its newline, or nil when no complete line is left.
    mutating func next() -> ArraySlice<UInt8>? {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { return nil }
        defer { position = end + 1 }
        return bytes[position..<end]
    }

    var rest: ArraySlice<UInt8> { bytes[position...] }
}
