public import Crypto

// C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), the Ed25519 `cosignature/v1` type: a witness's
// timestamped signature over a checkpoint, carried as one more signature line of the checkpoint's signed note.

/// The public identity of an Ed25519 cosigner (a witness): its name and 32-byte public key.
///
/// Its key ID is `SHA-256(name || "\n" || 0x04 || public key)[:4]`, so a cosignature never matches a log key of the
/// same name (type 0x01), and a checkpoint verifier that only knows log keys ignores cosignature lines.
public struct CosignatureVerifier: Sendable, Hashable {
    /// The key type byte of `cosignature/v1` in key IDs and verifier keys.
    public static let keyType: UInt8 = 0x04

    /// The cosigner's name; non-empty, without Unicode spaces or `+`. SHOULD be a schema-less URL.
    public let name: String
    /// The 32-byte Ed25519 public key.
    public let publicKey: [UInt8]
    /// The 32-bit key ID.
    public let keyID: UInt32

    /// Creates a verifier from a name and a 32-byte Ed25519 public key.
    ///
    /// - Throws: `note.badKeyName` for an invalid name; `note.badKey` unless the key is 32 bytes of a valid point.
    public init(name: String, publicKey: some Collection<UInt8>) throws(NoteError) {
        let key = try noteCheckedKey(name: name, publicKey: publicKey)
        self.name = name
        self.publicKey = key
        self.keyID = noteKeyID(name: name, typedKey: [Self.keyType] + key)
    }

    /// Parses a cosigner's verifier key, `<name>+<8 hex digits key ID>+base64(0x04 || 32-byte public key)`.
    ///
    /// - Throws: `note.badVerifierKey` when the text is not of that form, the key type is not 0x04 or the key ID does
    ///   not match; `note.badKeyName` for an invalid name.
    public init(verifierKey vkey: String) throws(NoteError) {
        let (name, key) = try noteParseVerifierKey(vkey, type: Self.keyType, typeName: "an Ed25519 cosigner (0x04)")
        try self.init(name: name, publicKey: key)
    }

    /// The verifier key text, `<name>+<8 lowercase hex key ID>+base64(0x04 || public key)`.
    public var verifierKey: String {
        "\(name)+\(noteHex8(keyID))+\(NoteBase64.encode([Self.keyType] + publicKey))"
    }

    /// Whether a signature line names this cosigner (same name bytes and key ID).
    public func matches(_ signature: NoteSignature) -> Bool {
        keyID == signature.keyID && name.utf8.elementsEqual(signature.name.utf8)
    }

    /// The timestamp of `signature` if it is this cosigner's valid cosignature of `checkpointText` (the note text,
    /// ending in a newline, without signature lines); nil when the line is not this cosigner's, is not 8 + 64 bytes,
    /// carries a timestamp above 2^63 - 1, or does not verify.
    public func timestamp(of signature: NoteSignature, on checkpointText: String) -> UInt64? {
        guard matches(signature), signature.signature.count == 8 + 64 else {
            return nil
        }
        let timestamp = signature.signature.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard timestamp <= UInt64(Int64.max),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
            let message = Cosignature.message(checkpointText: checkpointText, timestamp: timestamp)
        else {
            return nil
        }
        return key.isValidSignature(signature.signature.suffix(64), for: message) ? timestamp : nil
    }
}

/// An Ed25519 cosigner: a name and a private key. Its descriptions show only the verifier key.
public struct CosignatureSigner: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let privateKey: Curve25519.Signing.PrivateKey
    /// The matching verifier.
    public let verifier: CosignatureVerifier

    /// Creates a cosigner.
    ///
    /// - Throws: `note.badKeyName` for an invalid name.
    public init(name: String, privateKey: Curve25519.Signing.PrivateKey) throws(NoteError) {
        self.verifier = try CosignatureVerifier(
            name: name,
            publicKey: Array(privateKey.publicKey.rawRepresentation)
        )
        self.privateKey = privateKey
    }

    /// Cosigns a checkpoint's note text (ending in a newline, without signature lines) at `timestamp`, POSIX seconds.
    ///
    /// - Throws: `note.malformed` for a text that is not a note text or a timestamp of 0 or above 2^63 - 1 (a witness
    ///   never omits the time); `note.signingFailed` if the signature could not be made.
    public func cosign(checkpointText: String, timestamp: UInt64) throws(NoteError) -> NoteSignature {
        guard timestamp > 0 else {
            throw .malformed("a cosignature's timestamp must not be zero")
        }
        guard let message = Cosignature.message(checkpointText: checkpointText, timestamp: timestamp) else {
            throw .malformed("the checkpoint text or the timestamp cannot be cosigned")
        }
        let signature: [UInt8]
        do {
            signature = Array(try privateKey.signature(for: message))
        } catch {
            throw .signingFailed
        }
        let stamp = (0..<8).map { UInt8(truncatingIfNeeded: timestamp >> (56 - 8 * UInt64($0))) }
        return NoteSignature(name: verifier.name, keyID: verifier.keyID, signature: stamp + signature)
    }

    public var description: String { "CosignatureSigner(\(verifier.verifierKey))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["verifier": verifier]) }
}

/// The `cosignature/v1` signed message.
public enum Cosignature {
    /// `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note text; nil when the text is not a valid
    /// note text (no final newline, or a control character) or the timestamp exceeds 2^63 - 1.
    public static func message(checkpointText: String, timestamp: UInt64) -> [UInt8]? {
        let text = Array(checkpointText.utf8)
        guard timestamp <= UInt64(Int64.max), (try? noteValidateText(text)) != nil else {
            return nil
        }
        return Array("cosignature/v1\ntime \(timestamp)\n".utf8) + text
    }
}
