/// A DSSE v1 envelope (secure-systems-lab/dsse `envelope.md`).
///
/// The signature covers `PAE(payloadType, payload)`, never the JSON around it. A ledger entry's
/// leaf bytes are the RFC 8785 canonical JSON of its envelope, see ``canonicalBytes()``.
public struct Envelope: Sendable, Hashable {
    /// The payload type of every ledger event.
    public static let eventPayloadType = "application/vnd.modelledger.event.v1+json"

    /// The largest leaf (the canonical JSON of an envelope) the ledger appends: 12 MiB, room for the 8 MiB of event
    /// data the CLI and the service accept, grown by a third in base64. Every reader of exports and leaves accepts
    /// at least this much, so that whatever the ledger writes, its export, `verify --from` and `restore` read back.
    public static let maximumLeafBytes = 12 * 1024 * 1024

    /// The largest leaf the ledger appends from now on: 65,535 bytes, the most a C2SP tlog-tiles entry bundle holds
    /// in one entry (its length is a big-endian uint16). The event schemas (``DataShape/Bounds/newEvent``) bound every
    /// event so that its leaf fits; a leaf appended before, up to ``maximumLeafBytes``, still verifies, but
    /// `ledger publish` refuses a log that holds one.
    public static let maximumBundledLeafBytes = 65_535

    public struct Signature: Sendable, Hashable {
        public var keyID: String
        public var signature: [UInt8]

        public init(keyID: String, signature: [UInt8]) {
            self.keyID = keyID
            self.signature = signature
        }
    }

    public var payloadType: String
    public var payload: [UInt8]
    public var signatures: [Signature]

    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// Signs `payload` with `key` and wraps it; the signature's keyid is the key's ``KeyID``.
    public static func signing(
        _ payload: [UInt8],
        payloadType: String = eventPayloadType,
        with key: SigningKey
    ) throws(LedgerError) -> Envelope {
        let signature = try key.signature(for: preAuthenticationEncoding(payloadType: payloadType, payload: payload))
        return Envelope(
            payloadType: payloadType,
            payload: payload,
            signatures: [Signature(keyID: key.keyID, signature: signature)]
        )
    }

    /// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.
    public static func preAuthenticationEncoding(payloadType: String, payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + payloadType.utf8.count + 32)
        out.append(contentsOf: "DSSEv1 ".utf8)
        out.append(contentsOf: String(payloadType.utf8.count).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: payloadType.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: String(payload.count).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: payload)
        return out
    }

    /// The bytes every signature covers.
    public var preAuthenticationEncoding: [UInt8] {
        Self.preAuthenticationEncoding(payloadType: payloadType, payload: payload)
    }

    /// True if some signature verifies under `key`. The keyid hint is not trusted for this check.
    public func isSigned(by key: PublicKey) -> Bool {
        let message = preAuthenticationEncoding
        return signatures.contains { key.isValidSignature($0.signature, for: message) }
    }

    /// DSSE verification with a threshold: the envelope is accepted if its payload type is
    /// supported and at least `threshold` distinct trusted keys each made a valid signature.
    /// Keyids are hints only: a signature without one is tried against every trusted key.
    public func isAccepted(
        trustedKeys: [PublicKey],
        threshold: Int = 1,
        supportedPayloadTypes: Set<String>
    ) -> Bool {
        guard supportedPayloadTypes.contains(payloadType), threshold >= 1 else { return false }
        let message = preAuthenticationEncoding
        var verifiedKeys: Set<PublicKey> = []
        for signature in signatures {
            for key in trustedKeys where !verifiedKeys.contains(key) {
                if key.isValidSignature(signature.signature, for: message) {
                    verifiedKeys.insert(key)
                    break
                }
            }
        }
        return verifiedKeys.count >= threshold
    }

    /// The RFC 8785 canonical JSON of the envelope: the leaf bytes of a ledger entry.
    ///
    /// Built by hand in the canonical member order (`payload`, `payloadType`, `signatures`;
    /// `keyid`, `sig`) because it is on the append hot path; a test pins it to the generic encoder.
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count * 4 / 3 + 200)
        out.append(contentsOf: #"{"payload":""#.utf8)
        Base64.append(payload, to: &out)
        out.append(contentsOf: #"","payloadType":"#.utf8)
        CanonicalJSON.appendString(payloadType, to: &out)
        out.append(contentsOf: #","signatures":["#.utf8)
        for (index, signature) in signatures.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"keyid":"#.utf8)
            CanonicalJSON.appendString(signature.keyID, to: &out)
            out.append(contentsOf: #","sig":""#.utf8)
            Base64.append(signature.signature, to: &out)
            out.append(contentsOf: #""}"#.utf8)
        }
        out.append(contentsOf: "]}".utf8)
        return out
    }

    /// Decodes an envelope from JSON. `payload` and `sig` may use either base64 alphabet, as DSSE requires.
    public init(json: JSONValue) throws(LedgerError) {
        guard let object = json.objectValue else { throw LedgerError(.malformed, "the envelope is not a JSON object") }
        let known: IdentifierSet = ["payload", "payloadType", "signatures"]
        for key in object.keys where !known.contains(key) {
            throw LedgerError(.malformed, "the envelope has an unknown member \"\(key)\"")
        }
        guard let payloadType = object["payloadType"]?.stringValue else {
            throw LedgerError(.malformed, "the envelope has no payloadType string")
        }
        guard let payloadText = object["payload"]?.stringValue, let payload = Base64.decode(payloadText) else {
            throw LedgerError(.malformed, "the envelope payload is not base64")
        }
        guard let signatureValues = object["signatures"]?.arrayValue else {
            throw LedgerError(.malformed, "the envelope has no signatures array")
        }
        var signatures: [Signature] = []
        for value in signatureValues {
            guard let member = value.objectValue, let sigText = member["sig"]?.stringValue,
                let sig = Base64.decode(sigText)
            else {
                throw LedgerError(.malformed, "an envelope signature has no \"sig\" in canonical base64")
            }
            signatures.append(Signature(keyID: member["keyid"]?.stringValue ?? "", signature: sig))
        }
        self.init(payloadType: payloadType, payload: payload, signatures: signatures)
    }

    /// Parses `leaf` if it is exactly the canonical JSON of a one-signature ledger envelope with a
    /// hex keyid, the only shape the ledger writes; nil for anything else, which the caller then
    /// hands to the general parser for a precise error. A match proves the bytes canonical
    /// without re-encoding them: on the verifier's hot path this halves the decoding work.
    package static func parseCanonicalLedgerLeaf(_ leaf: [UInt8]) -> Envelope? {
        leaf.withUnsafeBufferPointer { bytes -> Envelope? in
            var cursor = 0
            func expect(_ literal: [UInt8]) -> Bool {
                guard bytes.count - cursor >= literal.count else { return false }
                for (offset, byte) in literal.enumerated() where bytes[cursor + offset] != byte { return false }
                cursor += literal.count
                return true
            }
            func base64Run() -> Range<Int> {
                let start = cursor
                while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "\"") { cursor += 1 }
                return start..<cursor
            }
            guard expect(LeafLayout.prefix) else { return nil }
            let payloadRange = base64Run()
            guard expect(LeafLayout.middle), bytes.count - cursor >= 64 else { return nil }
            let keyRange = cursor..<(cursor + 64)
            guard keyRange.allSatisfy({ (0x30...0x39).contains(bytes[$0]) || (0x61...0x66).contains(bytes[$0]) }) else {
                return nil
            }
            cursor += 64
            guard expect(LeafLayout.signature) else { return nil }
            let signatureRange = base64Run()
            guard expect(LeafLayout.suffix), cursor == bytes.count,
                let payload = Base64.decodeCanonical(bytes[payloadRange]),
                let signature = Base64.decodeCanonical(bytes[signatureRange])
            else { return nil }
            let keyID = String(decoding: bytes[keyRange], as: UTF8.self)
            return Envelope(
                payloadType: eventPayloadType,
                payload: payload,
                signatures: [Signature(keyID: keyID, signature: signature)]
            )
        }
    }

    private enum LeafLayout {
        static let prefix = Array(#"{"payload":""#.utf8)
        static let middle = Array(
            #"","payloadType":"application/vnd.modelledger.event.v1+json","signatures":[{"keyid":""#.utf8
        )
        static let signature = Array(#"","sig":""#.utf8)
        static let suffix = Array(#""}]}"#.utf8)
    }

    /// Parses envelope JSON bytes.
    public init(jsonBytes bytes: some Collection<UInt8>) throws(LedgerError) {
        let json: JSONValue
        do {
            json = try CanonicalJSON.parse(bytes)
        } catch {
            throw LedgerError(.malformed, "the envelope is not valid JSON (\(error.reason))")
        }
        try self.init(json: json)
    }
}
