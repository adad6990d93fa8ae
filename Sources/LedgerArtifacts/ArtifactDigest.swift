public import LedgerCore

/// The name of an artifact: the SHA-256 of its bytes, written `sha256:<64 lowercase hex digits>`.
///
/// Two artifacts with the same digest are the same artifact. Ordering is the ordering of the hex text.
public struct ArtifactDigest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The SHA-256 of the artifact's bytes.
    public let sha256: Hash256

    /// The only algorithm prefix the store writes or accepts.
    static let prefix = "sha256:"

    public init(sha256: Hash256) {
        self.sha256 = sha256
    }

    /// Parses `sha256:` followed by exactly 64 lowercase hex digits; returns `nil` for anything else,
    /// including uppercase digits, surrounding whitespace and other algorithms.
    public init?(_ text: String) {
        guard text.hasPrefix(ArtifactDigest.prefix) else { return nil }
        let hex = text.dropFirst(ArtifactDigest.prefix.count)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy(isLowercaseHexDigit), let hash = Hash256(hex: String(hex))
        else { return nil }
        self.sha256 = hash
    }

    /// The digest of `bytes`.
    public static func of(_ bytes: some Collection<UInt8>) -> ArtifactDigest {
        ArtifactDigest(sha256: .sha256(bytes))
    }

    /// `sha256:<64 lowercase hex digits>`, the form `init?(_:)` parses.
    public var description: String { ArtifactDigest.prefix + sha256.hex }

    public static func < (lhs: ArtifactDigest, rhs: ArtifactDigest) -> Bool {
        lhs.sha256 < rhs.sha256
    }
}

private func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
}
