import Crypto

/// A SHA-256 digest.
///
/// Ordering is lexicographic over the 32 bytes, which is the same as ordering the lowercase hex strings.
public struct Hash256: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The digest, always exactly 32 bytes.
    public let bytes: [UInt8]

    /// The number of bytes in a SHA-256 digest.
    static let byteCount = 32

    /// Creates a hash from exactly 32 bytes; returns `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Hash256.byteCount else { return nil }
        self.bytes = Array(bytes)
    }

    /// Creates a hash from 64 hexadecimal digits, in either case; returns `nil` for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 2 * Hash256.byteCount else { return nil }
        var decoded = [UInt8]()
        decoded.reserveCapacity(Hash256.byteCount)
        var index = 0
        while index < digits.count {
            guard let high = hash256HexValue(digits[index]), let low = hash256HexValue(digits[index + 1]) else {
                return nil
            }
            decoded.append(high << 4 | low)
            index += 2
        }
        self.bytes = decoded
    }

    /// Wraps bytes that the caller guarantees are 32 long.
    private init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Copies a finished SHA-256 digest.
    init(digest: SHA256.Digest) {
        self.bytes = digest.withUnsafeBytes { Array($0) }
    }

    /// Copies the 32 bytes at the start of `buffer`, which must hold at least 32 bytes.
    init(copying buffer: UnsafeRawBufferPointer) {
        precondition(buffer.count >= Hash256.byteCount, "Hash256 needs 32 bytes")
        self.bytes = Array(buffer[0..<Hash256.byteCount])
    }

    /// The hash as 64 lowercase hexadecimal digits.
    public var hex: String {
        var digits = [UInt8]()
        digits.reserveCapacity(2 * bytes.count)
        for byte in bytes {
            digits.append(hash256HexDigits[Int(byte >> 4)])
            digits.append(hash256HexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: digits, as: UTF8.self)
    }

    /// Thirty-two zero bytes.
    public static let zero = Hash256(unchecked: [UInt8](repeating: 0, count: Hash256.byteCount))

    /// The SHA-256 digest of `data`.
    ///
    /// Accepts `[UInt8]`, `ArraySlice<UInt8>`, `Data`, `String.UTF8View` and any other byte sequence; contiguous
    /// storage is hashed in place without copying.
    public static func sha256(_ data: some Sequence<UInt8>) -> Hash256 {
        var hasher = SHA256()
        let hashedInPlace: Void? = data.withContiguousStorageIfAvailable { buffer in
            hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer))
        }
        if hashedInPlace == nil {
            Array(data).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return Hash256(digest: hasher.finalize())
    }

    public var description: String { hex }

    public static func < (lhs: Hash256, rhs: Hash256) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

private let hash256HexDigits = Array("0123456789abcdef".utf8)

private func hash256HexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}
