public import Crypto
import Foundation

// C2SP signed notes (https://c2sp.org/signed-note, v1.0.0) with Ed25519 keys (signature type 0x01), checked
// against golang.org/x/mod/sumdb/note.

/// One signature line of a signed note: `— <name> base64(keyID || signature)`.
public struct NoteSignature: Sendable, Hashable {
    /// The key name.
    public var name: String
    /// The 32-bit key ID, big-endian on the wire.
    public var keyID: UInt32
    /// The signature bytes that follow the 4-byte key ID (64 bytes for Ed25519).
    public var signature: [UInt8]

    public init(name: String, keyID: UInt32, signature: [UInt8]) {
        self.name = name
        self.keyID = keyID
        self.signature = signature
    }

    /// The line, including the em dash and the final newline.
    public var line: String {
        let blob = noteBigEndianBytes(keyID) + signature
        return "\u{2014} \(name) \(NoteBase64.encode(blob))\n"
    }
}

/// An Ed25519 note verifier: a key name and a 32-byte public key.
public struct NoteVerifier: Sendable, Hashable {
    /// The key name; non-empty, without Unicode spaces or `+`.
    public let name: String
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    private let storedKeyID: UInt32

    /// The key ID: the first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || publicKey).
    public var keyID: UInt32 { storedKeyID }

    /// Creates a verifier from a key name and a 32-byte Ed25519 public key.
    ///
    /// - Throws: `note.badKeyName` for an empty name or one with a Unicode space or `+`; `note.badKey` unless the
    ///   key is 32 bytes.
    public init(name: String, publicKey: some Collection<UInt8>) throws(NoteError) {
        let key = try noteCheckedKey(name: name, publicKey: publicKey)
        self.name = name
        self.publicKey = key
        self.storedKeyID = noteKeyID(name: name, typedKey: [0x01] + key)
    }

    /// Parses verifier key text, `<name>+<8 hex digits key ID>+base64(0x01 || 32-byte public key)`.
    ///
    /// - Throws: `note.badVerifierKey` when the text is not of that form, the key type is not Ed25519 or the key ID
    ///   does not match the name and key; `note.badKeyName` for an invalid name.
    public init(verifierKey vkey: String) throws(NoteError) {
        let (name, key) = try noteParseVerifierKey(vkey, type: 0x01, typeName: "Ed25519 (0x01)")
        try self.init(name: name, publicKey: key)
    }

    /// The verifier key text, `<name>+<8 lowercase hex key ID>+base64(0x01 || public key)`.
    public var verifierKey: String {
        "\(name)+\(noteHex8(keyID))+\(NoteBase64.encode([0x01] + publicKey))"
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` by this key.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else {
            return false
        }
        return key.isValidSignature(signature, for: message)
    }

    /// Whether this verifier is the one a signature line names.
    func matches(_ signature: NoteSignature) -> Bool {
        keyID == signature.keyID && name.utf8.elementsEqual(signature.name.utf8)
    }
}

/// An Ed25519 note signer: a key name and a private key.
///
/// Its descriptions and mirror show only the verifier key, never the private key.
public struct NoteSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let privateKey: Curve25519.Signing.PrivateKey
    /// The matching verifier.
    public let verifier: NoteVerifier

    /// Creates a signer.
    ///
    /// - Throws: `note.badKeyName` for an empty name or one with a Unicode space or `+`.
    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) throws(NoteError) {
        self.verifier = try NoteVerifier(name: name, publicKey: Array(privateKey.publicKey.rawRepresentation))
        self.privateKey = privateKey
    }

    /// Signs a note text, which must end with a newline and must not contain ASCII control characters other than
    /// newline.
    ///
    /// - Throws: `note.malformed` for a text that is not a valid note text; `note.signingFailed` if the signature
    ///   could not be made.
    public func signature(for text: String) throws(NoteError) -> NoteSignature {
        let message = Array(text.utf8)
        try noteValidateText(message)
        let signature: [UInt8]
        do {
            signature = Array(try privateKey.signature(for: message))
        } catch {
            throw .signingFailed
        }
        return NoteSignature(name: verifier.name, keyID: verifier.keyID, signature: signature)
    }

    public var description: String { "NoteSigner(\(verifier.verifierKey))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["verifier": verifier]) }
}

/// A signed note: a text ending in a newline, a blank line, and one or more signature lines.
public struct SignedNote: Sendable, Hashable {
    /// The signed text, including its final newline.
    public var text: String
    /// The signatures, in the order of their lines.
    public var signatures: [NoteSignature]

    /// The most signatures a note may carry; more are rejected as malformed, as golang.org/x/mod/sumdb/note does.
    public static let maximumSignatureCount = 100

    public init(text: String, signatures: [NoteSignature]) {
        self.text = text
        self.signatures = signatures
    }

    /// Parses a signed note. Nothing is verified here; see `verify(with:)`.
    ///
    /// - Throws: `note.malformed` unless the note is: free of ASCII control characters other than newline; a text
    ///   ending in a newline, then a blank line (the text ends at the last blank line), then 1 to 100 lines of the
    ///   form `— <name> <base64>\n` with a valid key name and standard padded base64 of at least 5 bytes.
    public static func parse(_ note: String) throws(NoteError) -> SignedNote {
        try parse(utf8: Array(note.utf8))
    }

    /// Parses a signed note from its bytes, which must also be valid UTF-8.
    ///
    /// - Throws: as `parse(_:)`.
    public static func parse(utf8 note: some Collection<UInt8>) throws(NoteError) -> SignedNote {
        let bytes = Array(note)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw .malformed("the note is not valid UTF-8")
        }
        guard !bytes.contains(where: noteIsForbiddenControl) else {
            throw .malformed("the note contains an ASCII control character other than newline")
        }
        guard let split = noteLastBlankLine(in: bytes) else {
            throw .malformed("no blank line separates the text from the signatures")
        }
        let textBytes = bytes[..<(split + 1)]
        let signatureBlock = bytes[(split + 2)...]
        guard signatureBlock.last == noteNewline else {
            throw .malformed("the signature block is empty or does not end with a newline")
        }
        let lines = signatureBlock.dropLast().split(separator: noteNewline, omittingEmptySubsequences: false)
        guard lines.count <= maximumSignatureCount else {
            throw .malformed("more than \(maximumSignatureCount) signatures")
        }
        var signatures: [NoteSignature] = []
        signatures.reserveCapacity(lines.count)
        for line in lines {
            signatures.append(try noteParseSignatureLine(line))
        }
        return SignedNote(text: String(decoding: textBytes, as: UTF8.self), signatures: signatures)
    }

    /// The note as text: the text, a blank line, then one line per signature.
    public var serialized: String {
        text + "\n" + signatures.map(\.line).joined()
    }

    /// Signs the text and adds the signature line, replacing an existing signature with the same key name and key
    /// ID, otherwise appending it (cosigning).
    ///
    /// - Throws: as `NoteSigner.signature(for:)`.
    public mutating func addSignature(by signer: NoteSigner) throws(NoteError) {
        let signature = try signer.signature(for: text)
        if let index = signatures.firstIndex(where: { signer.verifier.matches($0) }) {
            signatures[index] = signature
        } else {
            signatures.append(signature)
        }
    }

    /// Verifies the note with the known verifiers and returns those whose signatures verified, in signature order.
    ///
    /// Signatures whose (name, key ID) matches no verifier are ignored. Every signature from a known key is checked.
    ///
    /// - Throws: `note.malformed` for a text that is not a valid note text or more than 100 signatures;
    ///   `note.ambiguousKey` when two different known keys share a signature's name and key ID;
    ///   `note.badSignature` when a known key's signature does not verify; `note.noKnownSignature` when no
    ///   signature is from a known key.
    public func verify(with verifiers: [NoteVerifier]) throws(NoteError) -> [NoteVerifier] {
        let message = Array(text.utf8)
        try noteValidateText(message)
        guard signatures.count <= SignedNote.maximumSignatureCount else {
            throw .malformed("more than \(SignedNote.maximumSignatureCount) signatures")
        }
        var verified: [NoteVerifier] = []
        for signature in signatures {
            var candidates: [NoteVerifier] = []
            for verifier in verifiers where verifier.matches(signature) && !candidates.contains(verifier) {
                candidates.append(verifier)
            }
            guard let verifier = candidates.first else {
                continue
            }
            guard candidates.count == 1 else {
                throw .ambiguousKey(name: signature.name, keyID: signature.keyID)
            }
            guard verifier.isValidSignature(signature.signature, for: message) else {
                throw .badSignature(name: signature.name, keyID: signature.keyID)
            }
            if !verified.contains(verifier) {
                verified.append(verifier)
            }
        }
        guard !verified.isEmpty else {
            throw .noKnownSignature
        }
        return verified
    }
}

/// A signed note or checkpoint could not be parsed, made or verified.
///
/// `code` is stable and meant for programs and logs; `reason` is for people and may change. Neither ever contains
/// key material: at most a key name and key ID.
public struct NoteError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case malformed(String)
        case badKeyName
        case badKey(String)
        case badVerifierKey(String)
        case signingFailed
        case ambiguousKey(name: String, keyID: UInt32)
        case badSignature(name: String, keyID: UInt32)
        case noKnownSignature
        case checkpointMalformed(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) {
        self.kind = kind
    }

    static func malformed(_ reason: String) -> NoteError { NoteError(.malformed(reason)) }
    static let badKeyName = NoteError(.badKeyName)
    static func badKey(_ reason: String) -> NoteError { NoteError(.badKey(reason)) }
    static func badVerifierKey(_ reason: String) -> NoteError { NoteError(.badVerifierKey(reason)) }
    static let signingFailed = NoteError(.signingFailed)
    static func ambiguousKey(name: String, keyID: UInt32) -> NoteError {
        NoteError(.ambiguousKey(name: name, keyID: keyID))
    }
    static func badSignature(name: String, keyID: UInt32) -> NoteError {
        NoteError(.badSignature(name: name, keyID: keyID))
    }
    static let noKnownSignature = NoteError(.noKnownSignature)
    static func checkpointMalformed(_ reason: String) -> NoteError { NoteError(.checkpointMalformed(reason)) }

    /// A stable identifier: `note.malformed`, `note.badKeyName`, `note.badKey`, `note.badVerifierKey`,
    /// `note.signingFailed`, `note.ambiguousKey`, `note.badSignature`, `note.noKnownSignature` or
    /// `checkpoint.malformed`.
    public var code: String {
        switch kind {
        case .malformed: "note.malformed"
        case .badKeyName: "note.badKeyName"
        case .badKey: "note.badKey"
        case .badVerifierKey: "note.badVerifierKey"
        case .signingFailed: "note.signingFailed"
        case .ambiguousKey: "note.ambiguousKey"
        case .badSignature: "note.badSignature"
        case .noKnownSignature: "note.noKnownSignature"
        case .checkpointMalformed: "checkpoint.malformed"
        }
    }

    /// A human-readable explanation.
    public var reason: String {
        switch kind {
        case .malformed(let reason): "malformed note: \(reason)"
        case .badKeyName: "a key name must be non-empty and contain no Unicode space and no '+'"
        case .badKey(let reason): "bad public key: \(reason)"
        case .badVerifierKey(let reason): "bad verifier key: \(reason)"
        case .signingFailed: "the signature could not be made"
        case .ambiguousKey(let name, let keyID):
            "more than one known key has the name and key ID \(name)+\(noteHex8(keyID))"
        case .badSignature(let name, let keyID): "invalid signature for key \(name)+\(noteHex8(keyID))"
        case .noKnownSignature: "the note has no signature from a known key"
        case .checkpointMalformed(let reason): "malformed checkpoint: \(reason)"
        }
    }

    public var description: String { "\(code): \(reason)" }
}

// MARK: - Helpers

private let noteNewline = UInt8(ascii: "\n")

/// UTF-8 of "— " (U+2014 EM DASH, space).
private let noteSignaturePrefix: [UInt8] = [0xE2, 0x80, 0x94, 0x20]

/// Key names are non-empty and contain no Unicode white space and no `+`.
func noteIsValidKeyName(_ name: String) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0 == "+" }
}

/// ASCII control characters other than newline, which notes must not contain.
func noteIsForbiddenControl(_ byte: UInt8) -> Bool {
    byte < 0x20 && byte != noteNewline
}

/// A note text is non-empty, ends with a newline and has no other ASCII control characters (Swift strings are
/// always valid UTF-8).
func noteValidateText(_ text: [UInt8]) throws(NoteError) {
    guard text.last == noteNewline else {
        throw .malformed("the text does not end with a newline")
    }
    guard !text.contains(where: noteIsForbiddenControl) else {
        throw .malformed("the text contains an ASCII control character other than newline")
    }
}

/// The index of the first newline of the last "\n\n" in `bytes`.
private func noteLastBlankLine(in bytes: [UInt8]) -> Int? {
    var index = bytes.count - 2
    while index >= 0 {
        if bytes[index] == noteNewline && bytes[index + 1] == noteNewline {
            return index
        }
        index -= 1
    }
    return nil
}

private func noteParseSignatureLine(_ line: ArraySlice<UInt8>) throws(NoteError) -> NoteSignature {
    guard line.starts(with: noteSignaturePrefix) else {
        throw .malformed("a line after the blank line is not a signature line")
    }
    let rest = line.dropFirst(noteSignaturePrefix.count)
    guard let space = rest.firstIndex(of: UInt8(ascii: " ")) else {
        throw .malformed("a signature line has no signature")
    }
    let name = String(decoding: rest[..<space], as: UTF8.self)
    guard noteIsValidKeyName(name) else {
        throw .malformed("a signature line has an invalid key name")
    }
    guard let blob = NoteBase64.decode(rest[(space + 1)...]), blob.count >= 5 else {
        throw .malformed("a signature is not standard padded base64 of a key ID and at least one byte")
    }
    let keyID = blob.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return NoteSignature(name: name, keyID: keyID, signature: Array(blob.dropFirst(4)))
}

/// The 32 bytes of an Ed25519 public key, once `name` is a valid key name and the bytes a valid point.
///
/// - Throws: `note.badKeyName` for an empty name or one with a Unicode space or `+`; `note.badKey` otherwise.
func noteCheckedKey(name: String, publicKey: some Collection<UInt8>) throws(NoteError) -> [UInt8] {
    guard noteIsValidKeyName(name) else {
        throw .badKeyName
    }
    let key = Array(publicKey)
    guard key.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: key)) != nil else {
        throw .badKey("an Ed25519 public key has 32 bytes")
    }
    return key
}

/// Parses `<name>+<8 hex digits key ID>+base64(type || 32-byte public key)` and checks the key ID; returns the name
/// and the 32 key bytes.
func noteParseVerifierKey(_ vkey: String, type: UInt8, typeName: String) throws(NoteError) -> (String, [UInt8]) {
    let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3 else {
        throw .badVerifierKey("expected <name>+<key ID>+<key>")
    }
    let name = String(parts[0])
    guard noteIsValidKeyName(name) else {
        throw .badKeyName
    }
    let hexID = Array(parts[1].utf8)
    guard hexID.count == 8, let claimedID = UInt32(String(decoding: hexID, as: UTF8.self), radix: 16),
        hexID.allSatisfy({ noteIsHexDigit($0) })
    else {
        throw .badVerifierKey("the key ID is not 8 hexadecimal digits")
    }
    guard let typedKey = NoteBase64.decode(parts[2].utf8) else {
        throw .badVerifierKey("the key is not standard padded base64")
    }
    guard typedKey.first == type else {
        throw .badVerifierKey("the key type is not \(typeName)")
    }
    guard typedKey.count == 33 else {
        throw .badVerifierKey("an Ed25519 public key has 32 bytes")
    }
    guard noteKeyID(name: name, typedKey: typedKey) == claimedID else {
        throw .badVerifierKey("the key ID does not match the name and key")
    }
    return (name, Array(typedKey.dropFirst()))
}

/// SHA-256(name || 0x0A || type byte || public key)[:4], big-endian.
func noteKeyID(name: String, typedKey: [UInt8]) -> UInt32 {
    let digest = Hash256.sha256(Array(name.utf8) + [noteNewline] + typedKey)
    return digest.bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

func noteBigEndianBytes(_ value: UInt32) -> [UInt8] {
    [
        UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
        UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
    ]
}

func noteHex8(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 8 - digits.count) + digits
}

func noteIsHexDigit(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
        UInt8(ascii: "A")...UInt8(ascii: "F"):
        true
    default:
        false
    }
}

/// Standard base64 with padding (RFC 4648 §4), strict: the length is a multiple of 4, padding only at the end, and
/// the unused bits before the padding are zero, so every byte string has exactly one accepted encoding.
enum NoteBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, symbol) in alphabet.enumerated() {
            table[Int(symbol)] = UInt8(value)
        }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            out.append(remaining > 1 ? alphabet[Int(group >> 6 & 0x3F)] : UInt8(ascii: "="))
            out.append(remaining > 2 ? alphabet[Int(group & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let symbols = Array(text)
        guard symbols.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count / 4 * 3)
        var start = 0
        while start < symbols.count {
            let isLast = start + 4 == symbols.count
            let quad = symbols[start..<(start + 4)]
            let padding = quad.reversed().prefix { $0 == UInt8(ascii: "=") }.count
            guard padding <= 2, padding == 0 || isLast else { return nil }
            var group: UInt32 = 0
            for symbol in quad.prefix(4 - padding) {
                let value = values[Int(symbol)]
                guard value != 0xFF else { return nil }
                group = group << 6 | UInt32(value)
            }
            group <<= 6 * UInt32(padding)
            let decoded = [
                UInt8(truncatingIfNeeded: group >> 16), UInt8(truncatingIfNeeded: group >> 8),
                UInt8(truncatingIfNeeded: group),
            ]
            // Canonical form: the bits that the padding leaves unused must be zero.
            guard decoded.suffix(padding).allSatisfy({ $0 == 0 }) else { return nil }
            out.append(contentsOf: decoded.prefix(3 - padding))
            start += 4
        }
        return out
    }
}
