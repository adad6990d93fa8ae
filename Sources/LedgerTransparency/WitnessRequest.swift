public import LedgerCore

// The body of a C2SP tlog-witness add-checkpoint request (https://c2sp.org/tlog-witness): `old <size>`, at most 63
// base64 consistency-proof hashes, a blank line, then the checkpoint's signed note. Every line ends in a newline.

/// An add-checkpoint request: the size the client believes the witness last cosigned, a consistency proof from it,
/// and the checkpoint to cosign.
public struct AddCheckpointRequest: Sendable, Hashable {
    /// The tree size of the previous checkpoint the witness cosigned for this origin (0 if none).
    public var oldSize: UInt64
    /// The RFC 6962 consistency proof from `oldSize` to the checkpoint's size; empty when `oldSize` is 0.
    public var proof: [Hash256]
    /// The checkpoint as a signed note, with at least the log's signature.
    public var checkpoint: SignedNote

    /// The most proof lines a request may carry, as the specification allows.
    public static let maximumProofLines = 63
    /// The largest request body accepted: a checkpoint with cosignatures is a few KiB; 64 KiB leaves room for the
    /// 100 signature lines a note may carry and the 63 proof lines.
    public static let maximumBytes = 64 << 10

    /// Creates a request.
    public init(oldSize: UInt64, proof: [Hash256], checkpoint: SignedNote) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// The request body: `old <size>\n`, one base64 hash per line, a blank line and the note.
    public var body: [UInt8] {
        Array(head.utf8) + Array(("\n" + checkpoint.serialized).utf8)
    }

    /// The `old` line and the proof lines, without the blank line: what `ledger witness cosign --proof FILE` reads.
    public var head: String {
        "old \(oldSize)\n" + proof.map { Base64.encode($0.bytes) + "\n" }.joined()
    }

    /// Parses a request body strictly.
    ///
    /// - Throws: `witness.request` for a body over ``maximumBytes``, no `old` line, a size with a sign or leading
    ///   zeros or above 2^63 - 1, a proof line that is not canonical base64 of 32 bytes, more than 63 proof lines, no
    ///   blank line before the note, or a note that signed-note refuses.
    public static func parse(_ body: some Collection<UInt8>) throws(LedgerError) -> AddCheckpointRequest {
        let bytes = Array(body)
        guard bytes.count <= maximumBytes else {
            throw LedgerError(.witnessRequest, "the request holds \(bytes.count) bytes, more than \(maximumBytes)")
        }
        let (oldSize, proof, rest) = try parseHead(bytes[...], requireBlankLine: true)
        let note: SignedNote
        do {
            note = try SignedNote.parse(utf8: rest)
        } catch {
            throw LedgerError(.witnessRequest, "the checkpoint is not a signed note: \(error.reason)")
        }
        return AddCheckpointRequest(oldSize: oldSize, proof: proof, checkpoint: note)
    }

    /// Parses an `old` line and proof lines, as ``head`` writes them, optionally followed by a blank line.
    ///
    /// - Throws: `witness.request` as ``parse(_:)``.
    public static func parseHead(_ text: some Collection<UInt8>) throws(LedgerError) -> (UInt64, [Hash256]) {
        let bytes = Array(text)
        guard bytes.count <= maximumBytes else {
            throw LedgerError(.witnessRequest, "the proof holds \(bytes.count) bytes, more than \(maximumBytes)")
        }
        let (oldSize, proof, rest) = try parseHead(bytes[...], requireBlankLine: false)
        guard rest.isEmpty else {
            throw LedgerError(.witnessRequest, "the proof goes on after its blank line")
        }
        return (oldSize, proof)
    }

    private static func parseHead(
        _ bytes: ArraySlice<UInt8>,
        requireBlankLine: Bool
    ) throws(LedgerError) -> (UInt64, [Hash256], ArraySlice<UInt8>) {
        var rest = bytes
        func nextLine() -> ArraySlice<UInt8>? {
            guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let line = rest[rest.startIndex..<newline]
            rest = rest[(newline + 1)...]
            return line
        }
        guard let first = nextLine(), first.starts(with: Array("old ".utf8)),
            let oldSize = decimal(first.dropFirst(4))
        else {
            throw LedgerError(
                .witnessRequest,
                "the request does not begin with `old <size>` and a newline (a decimal without leading zeros)"
            )
        }
        var proof: [Hash256] = []
        while true {
            if rest.isEmpty, !requireBlankLine { break }
            guard let line = nextLine() else {
                throw LedgerError(.witnessRequest, "no blank line ends the proof lines")
            }
            if line.isEmpty { break }
            guard proof.count < maximumProofLines else {
                throw LedgerError(.witnessRequest, "more than \(maximumProofLines) proof lines")
            }
            guard let hashBytes = Base64.decodeCanonical(line), let hash = Hash256(bytes: hashBytes) else {
                throw LedgerError(
                    .witnessRequest,
                    "proof line \(proof.count + 1) is not standard padded base64 of a 32-byte hash"
                )
            }
            proof.append(hash)
        }
        return (oldSize, proof, rest)
    }

    /// Parses ASCII decimal without a sign or leading zeros (unless it is `0`), at most 2^63 - 1, as the `old` line
    /// and a 409's `text/x.tlog.size` body carry sizes; nil for anything else.
    public static func decimal(_ digits: some Collection<UInt8>) -> UInt64? {
        guard let first = digits.first, digits.count <= 19, first != UInt8(ascii: "0") || digits.count == 1,
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let value = UInt64(String(decoding: digits, as: UTF8.self)), value <= UInt64(Int64.max)
        else { return nil }
        return value
    }
}

/// The body of a witness's answer to add-checkpoint: one or more note signature lines.
public enum CosignatureResponse {
    /// The largest response accepted: a few signature lines.
    public static let maximumBytes = 16 << 10

    /// The signature lines of `response`, parsed by appending them to `checkpoint` and reading the note back, as
    /// the specification suggests. Nothing is verified here.
    ///
    /// - Throws: `witness.request` for an empty or oversized response, or lines that are not note signature lines.
    public static func parse(
        _ response: some Collection<UInt8>,
        for checkpoint: SignedNote
    ) throws(LedgerError) -> [NoteSignature] {
        let bytes = Array(response)
        guard !bytes.isEmpty, bytes.count <= maximumBytes, bytes.last == UInt8(ascii: "\n") else {
            throw LedgerError(
                .witnessRequest,
                "the witness's response is not 1 to \(maximumBytes) bytes of signature lines ending in a newline"
            )
        }
        let joined = Array(checkpoint.serialized.utf8) + bytes
        do {
            let note = try SignedNote.parse(utf8: joined)
            return Array(note.signatures.dropFirst(checkpoint.signatures.count))
        } catch {
            throw LedgerError(.witnessRequest, "the witness's response is not note signature lines: \(error.reason)")
        }
    }
}
