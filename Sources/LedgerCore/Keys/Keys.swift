public import Crypto
import Foundation

/// The identifier of a key: the lowercase hex SHA-256 of its raw 32-byte Ed25519 public key.
public typealias KeyID = String

/// An Ed25519 public key as the ledger knows it.
public struct PublicKey: Hashable, Sendable {
    /// The raw 32 bytes.
    public let rawRepresentation: [UInt8]
    /// `hex(SHA-256(rawRepresentation))`.
    public let keyID: KeyID
    private let key: Curve25519.Signing.PublicKey

    /// Wraps 32 raw bytes.
    ///
    /// Throws `key.invalid` for any other length, a non-canonical encoding (y ≥ p), and the
    /// small-order points: the library verifies signatures under those keys that anyone can make
    /// (the identity key accepts R = identity, S = 0 for every message), so they must never
    /// enter a keyring.
    public init(rawRepresentation bytes: some Collection<UInt8>) throws(LedgerError) {
        let raw = Array(bytes)
        guard raw.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw LedgerError(.key, "an Ed25519 public key is 32 bytes")
        }
        guard !Self.isWeak(raw) else {
            throw LedgerError(.key, "the public key is a small-order or non-canonical Ed25519 point")
        }
        self.rawRepresentation = raw
        self.key = key
        self.keyID = Hash256.sha256(raw).hex
    }

    /// The encodings of the small-order points, compared without the sign bit (libsodium's
    /// blocklist; each was checked to satisfy [8]P = identity).
    private static let smallOrderEncodings: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
            0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
            0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
        [0xec] + [UInt8](repeating: 0xff, count: 30) + [0x7f],
    ]

    /// True for a small-order point or a y coordinate that is not below p = 2^255 - 19.
    static func isWeak(_ raw: [UInt8]) -> Bool {
        var unsigned = raw
        unsigned[31] &= 0x7f
        // y >= p: the top 255 bits are all ones except possibly the lowest byte, which is >= 0xed.
        if unsigned[31] == 0x7f, unsigned[1..<31].allSatisfy({ $0 == 0xff }), unsigned[0] >= 0xed { return true }
        return smallOrderEncodings.contains(unsigned)
    }

    /// Wraps a key that swift-crypto already validated.
    init(_ key: Curve25519.Signing.PublicKey) {
        self.key = key
        self.rawRepresentation = Array(key.rawRepresentation)
        self.keyID = Hash256.sha256(rawRepresentation).hex
    }

    /// Parses 64 hex characters or an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    public init(text: String) throws(LedgerError) {
        let trimmed = text.trimmingASCIIWhitespace()
        if let raw = Hex.decode(trimmed), raw.count == 32 {
            try self.init(rawRepresentation: raw)
        } else {
            let der = try PEM.decode(trimmed, label: "PUBLIC KEY")
            guard der.count == PEM.spkiPrefix.count + 32, der.starts(with: PEM.spkiPrefix) else {
                throw LedgerError(.key, "the PEM is not an Ed25519 SubjectPublicKeyInfo")
            }
            try self.init(rawRepresentation: der.dropFirst(PEM.spkiPrefix.count))
        }
    }

    /// True if `signature` is a valid Ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    /// The SPKI PEM text, which `openssl pkey -pubin` reads.
    public var pemRepresentation: String {
        PEM.encode(PEM.spkiPrefix + rawRepresentation, label: "PUBLIC KEY")
    }

    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.rawRepresentation == rhs.rawRepresentation }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawRepresentation) }
}

/// An Ed25519 private key. Its bytes never appear in a description, an error or an event.
public struct SigningKey: Sendable, CustomStringConvertible {
    private let key: Curve25519.Signing.PrivateKey
    public let publicKey: PublicKey

    /// A new random key.
    public init() {
        self.init(key: Curve25519.Signing.PrivateKey())
    }

    /// A key from its 32-byte seed (RFC 8032 private key).
    public init(seed: some Collection<UInt8>) throws(LedgerError) {
        guard seed.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: Array(seed)) else {
            throw LedgerError(.key, "an Ed25519 private key seed is 32 bytes")
        }
        self.init(key: key)
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) holding an Ed25519 key, as `openssl genpkey -algorithm ed25519` writes.
    public init(pemRepresentation text: String) throws(LedgerError) {
        let der = try PEM.decode(text.trimmingASCIIWhitespace(), label: "PRIVATE KEY")
        guard der.count == PEM.pkcs8Prefix.count + 32, der.starts(with: PEM.pkcs8Prefix) else {
            throw LedgerError(.key, "the PEM is not an Ed25519 PKCS#8 private key")
        }
        try self.init(seed: der.dropFirst(PEM.pkcs8Prefix.count))
    }

    private init(key: Curve25519.Signing.PrivateKey) {
        self.key = key
        self.publicKey = PublicKey(key.publicKey)
    }

    public var keyID: KeyID { publicKey.keyID }

    /// The underlying swift-crypto key, for signing notes.
    public var cryptoKey: Curve25519.Signing.PrivateKey { key }

    /// The Ed25519 signature of `message`.
    ///
    /// Ed25519 signing is deterministic and fails only if the crypto library cannot allocate.
    public func signature(for message: [UInt8]) throws(LedgerError) -> [UInt8] {
        do {
            return Array(try key.signature(for: message))
        } catch {
            throw LedgerError(.key, "the Ed25519 signature could not be computed")
        }
    }

    /// The PKCS#8 PEM text. Write it only to a file with mode 0600.
    public var pemRepresentation: String {
        PEM.encode(PEM.pkcs8Prefix + Array(key.rawRepresentation), label: "PRIVATE KEY")
    }

    public var description: String { "SigningKey(\(keyID))" }
}

/// The minimal PEM and DER needed for Ed25519 keys (RFC 8410): both DER forms are a fixed prefix
/// followed by the 32 key bytes.
enum PEM {
    /// SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (32 bytes) }
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]
    /// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } }
    static let pkcs8Prefix: [UInt8] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]

    static func encode(_ der: [UInt8], label: String) -> String {
        let body = Base64.encode(der)
        var lines = ["-----BEGIN \(label)-----"]
        var start = body.startIndex
        while start < body.endIndex {
            let end = body.index(start, offsetBy: 64, limitedBy: body.endIndex) ?? body.endIndex
            lines.append(String(body[start..<end]))
            start = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    static func decode(_ text: String, label: String) throws(LedgerError) -> [UInt8] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingASCIIWhitespace() }
        guard lines.first == begin, lines.last == end, lines.count >= 3 else {
            throw LedgerError(.key, "expected a PEM block labelled \"\(label)\"")
        }
        guard let der = Base64.decode(lines.dropFirst().dropLast().joined()) else {
            throw LedgerError(.key, "the PEM body is not valid base64")
        }
        return der
    }
}

extension StringProtocol {
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
            let last = scalars.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
