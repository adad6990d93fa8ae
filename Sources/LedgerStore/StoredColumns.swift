public import LedgerCore

/// Checks a store's index columns against the envelope bytes they were derived from.
///
/// A store keeps `leaf_hash`, `type`, `time` and `actor` beside each envelope only so that people can query it with
/// SQL. Nothing in the ledger decides or filters on them, but an edited column would still mislead whoever reads the
/// table, so `ledger verify` checks every one.
public enum StoredColumns {
    /// The first entry of `page` whose stored seq, leaf hash, type, time or actor is not what its leaf says, as a
    /// verification failure naming the seq and the column; nil when all match. An entry whose leaf does not decode
    /// is left to the verifier, which names it more precisely.
    ///
    /// - Parameter expectedFirstSeq: the seq the page must start at: a page with a gap is reported too.
    public static func firstMismatch(in page: [LogEntry], expectedFirstSeq: UInt64) -> VerificationFailure? {
        let mismatches = ParallelMap.map(page.count) { index -> VerificationFailure? in
            let entry = page[index]
            let position = expectedFirstSeq + UInt64(index)
            guard entry.seq == position else {
                return VerificationFailure(
                    seq: position,
                    code: .storage,
                    reason: "the store has no entry at seq \(position) (the next stored seq is \(entry.seq))"
                )
            }
            guard let signed = try? SignedEvent(leaf: entry.leaf) else { return nil }
            let event = signed.event
            let differing: (String, String, String)? =
                if event.seq != entry.seq {
                    ("seq", "\(entry.seq)", "\(event.seq)")
                } else if entry.leafHash != signed.leafHash {
                    ("leaf_hash", entry.leafHash.hex, signed.leafHash.hex)
                } else if Array(entry.type.utf8) != Array(event.type.utf8) {
                    ("type", entry.type, event.type)
                } else if entry.time != event.time {
                    ("time", entry.time.rfc3339, event.time.rfc3339)
                } else if Array(entry.actor.utf8) != Array(event.actor.utf8) {
                    ("actor", entry.actor, event.actor)
                } else {
                    nil
                }
            guard let (column, stored, actual) = differing else { return nil }
            return VerificationFailure(
                seq: entry.seq,
                code: .storage,
                reason: "the store's \(column) column says \(Self.quoted(stored)) but the signed entry says "
                    + "\(Self.quoted(actual)): the database was edited"
            )
        }
        return mismatches.lazy.compactMap { $0 }.first
    }

    /// `text` in quotes, with control characters escaped, for a message.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f || scalar == "\"" || scalar == "\\" {
                out += scalar.escaped(asASCII: true)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
