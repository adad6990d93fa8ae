// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint, v1.0.0): the note text of a transparency log's tree head.

/// The body of a checkpoint: origin, tree size, RFC 6962 root hash and optional extension lines.
///
/// Sign and verify it as a `SignedNote` whose text is `text`.
public struct Checkpoint: Sendable, Hashable {
    /// The log's identity; non-empty, SHOULD be a schema-less URL (for example `example.com/log42`).
    public var origin: String
    /// The number of leaves in the tree.
    public var size: UInt64
    /// The RFC 6962 Merkle tree hash of the first `size` leaves.
    public var root: Hash256
    /// Opaque extension lines (without their newline); each must be non-empty. NOT RECOMMENDED by the spec.
    public var extensions: [String]

    public init(origin: String, size: UInt64, root: Hash256, extensions: [String] = []) {
        self.origin = origin
        self.size = size
        self.root = root
        self.extensions = extensions
    }

    /// The note text: `origin\nsize\nbase64(root)\n` followed by one line per extension.
    public var text: String {
        var lines = [origin, String(size), NoteBase64.encode(root.bytes)]
        lines.append(contentsOf: extensions)
        return lines.map { $0 + "\n" }.joined()
    }

    /// Parses a checkpoint note text. Accepts exactly the texts that `text` produces, so a parsed checkpoint
    /// re-serializes to the same bytes that were signed.
    ///
    /// - Throws: `checkpoint.malformed` for: no final newline; fewer than three lines; an empty origin; a size that
    ///   is not ASCII decimal without leading zeros or does not fit in 64 bits; a root that is not standard padded
    ///   base64 of exactly 32 bytes; an empty extension line; an ASCII control character other than newline.
    public init(text: String) throws(NoteError) {
        let bytes = Array(text.utf8)
        guard bytes.last == UInt8(ascii: "\n") else {
            throw .checkpointMalformed("the text does not end with a newline")
        }
        guard !bytes.contains(where: noteIsForbiddenControl) else {
            throw .checkpointMalformed("the text contains an ASCII control character other than newline")
        }
        let lines = bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count >= 3 else {
            throw .checkpointMalformed("fewer than three lines")
        }
        guard !lines[0].isEmpty else {
            throw .checkpointMalformed("the origin is empty")
        }
        guard let size = checkpointParseSize(lines[1]) else {
            throw .checkpointMalformed("the size is not a decimal number below 2^64 without leading zeros")
        }
        guard let rootBytes = NoteBase64.decode(lines[2]), let root = Hash256(bytes: rootBytes) else {
            throw .checkpointMalformed("the root hash is not standard padded base64 of 32 bytes")
        }
        let extensionLines = lines.dropFirst(3)
        guard extensionLines.allSatisfy({ !$0.isEmpty }) else {
            throw .checkpointMalformed("an extension line is empty")
        }
        self.origin = String(decoding: lines[0], as: UTF8.self)
        self.size = size
        self.root = root
        self.extensions = extensionLines.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// ASCII decimal, no sign, no leading zeros unless the whole number is "0", at most UInt64.max.
private func checkpointParseSize(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard let first = digits.first, first != UInt8(ascii: "0") || digits.count == 1 else {
        return nil
    }
    var value: UInt64 = 0
    for digit in digits {
        guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else {
            return nil
        }
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
        guard !overflow1, !overflow2 else {
            return nil
        }
        value = sum
    }
    return value
}
