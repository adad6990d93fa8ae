import LedgerCore
import LedgerTesting
import Testing

@Suite("DSSE envelopes")
struct EnvelopeTests {
    static let vectorIDs = [
        "single-signature", "url-safe-base64", "payload-type-swapped", "non-ascii-payload-type", "empty-payload",
        "empty-payload-type", "threshold-two-distinct-keys", "threshold-two-one-key-twice",
        "threshold-two-without-keyids",
    ]

    @Test("the DSSE protocol vectors: PAE bytes and accept/reject", arguments: vectorIDs)
    func protocolVector(id: String) throws {
        let file = try Fixture.json("dsse/vectors.unmerged-82043adf.json")
        let vector = try #require(file["vectors"]?.arrayValue?.first { $0["id"]?.stringValue == id })
        var keys: [String: PublicKey] = [:]
        for (name, key) in file["keys"]?.objectValue ?? [:] {
            keys[name] = try PublicKey(rawRepresentation: try #require(Hex.decode(key["public"]?.stringValue ?? "")))
            let seed = try #require(Hex.decode(key["seed"]?.stringValue ?? ""))
            #expect(try SigningKey(seed: seed).publicKey == keys[name], "seed and public key of \(name) agree")
        }
        let envelope = try Envelope(json: try #require(vector["envelope"]))
        let pae = try #require(Hex.decode(vector["pae"]?.stringValue ?? ""))
        // The vector's PAE is what was signed; a rejected vector's envelope may have been altered since.
        if vector["expect"]?.stringValue == "accept" {
            #expect(envelope.preAuthenticationEncoding == pae)
        } else {
            #expect(
                Envelope.preAuthenticationEncoding(
                    payloadType: envelope.payloadType,
                    payload: envelope.payload
                ) == envelope.preAuthenticationEncoding
            )
        }
        let trusted = try (vector["trustedKeys"]?.arrayValue ?? []).map { try #require(keys[$0.stringValue ?? ""]) }
        let accepted = envelope.isAccepted(
            trustedKeys: trusted,
            threshold: Int(vector["threshold"]?.integerValue ?? 1),
            supportedPayloadTypes: Set((vector["supportedPayloadTypes"]?.arrayValue ?? []).compactMap(\.stringValue))
        )
        #expect(accepted == (vector["expect"]?.stringValue == "accept"))
    }

    @Test(
        "an envelope signed with the RFC 8032 TEST 3 key, and its tampered twins",
        arguments: [
            ("envelope_ok.json", true), ("envelope_urlsafe_nokeyid.json", true), ("envelope_bad_payload.json", false),
            ("envelope_bad_sig.json", false), ("envelope_bad_type.json", false),
        ]
    )
    func signedEnvelope(file: String, accepted: Bool) throws {
        let key = try PublicKey(text: String(decoding: try Fixture.data("dsse/test_ed25519_pub.pem"), as: UTF8.self))
        let hexKey = try PublicKey(text: String(decoding: try Fixture.data("dsse/test_ed25519_pub.hex"), as: UTF8.self))
        #expect(key == hexKey)
        let envelope = try Envelope(jsonBytes: try Fixture.data("dsse/\(file)"))
        let verdict = envelope.isAccepted(
            trustedKeys: [key],
            supportedPayloadTypes: ["application/vnd.example.ledger-event+json"]
        )
        #expect(verdict == accepted)
    }

    @Test("the hand-built leaf bytes equal the generic RFC 8785 encoding of the envelope")
    func canonicalLeaf() throws {
        let event = Event(
            log: "example.org/log",
            seq: 7,
            prev: Hash256.sha256([1]),
            time: Timestamp(millisecondsSinceEpoch: 1_772_528_400_123),
            type: "note.added",
            actor: TestKeys.admin.keyID,
            subject: [Subject(name: "model \"é\"", sha256: Hash256.sha256([2]))],
            data: ["text": "line\nbreak \u{1F600}", "refs": [1, 2]]
        )
        let signed = try SignedEvent(signing: event, with: TestKeys.admin)
        #expect(signed.leaf == (try CanonicalJSON.canonicalize(signed.leaf)))
        #expect(try event.canonicalBytes() == (try CanonicalJSON.encode(event.jsonValue)))
        #expect(try SignedEvent(leaf: signed.leaf) == signed)
        #expect(signed.envelope.isSigned(by: TestKeys.admin.publicKey))
        #expect(!signed.envelope.isSigned(by: TestKeys.outsider.publicKey))
        #expect(signed.leafHash == MerkleTree.leafHash(signed.leaf))
    }

    @Test("the verifier's fast leaf parser accepts exactly the canonical ledger envelopes")
    func fastLeafParser() throws {
        let event = Event(
            log: "example.org/log",
            seq: 3,
            prev: Hash256.sha256([3]),
            time: Timestamp(millisecondsSinceEpoch: 1_772_528_400_000),
            type: "note.added",
            actor: TestKeys.admin.keyID,
            data: ["text": "fast"]
        )
        let leaf = try SignedEvent(signing: event, with: TestKeys.admin).leaf
        #expect(Envelope.parseCanonicalLedgerLeaf(leaf) == (try Envelope(jsonBytes: leaf)))
        // Whatever single-byte change the fast parser still accepts must be canonical itself.
        var accepted = 0
        for index in leaf.indices {
            for replacement: UInt8 in [0x20, 0x22, 0x2b, 0x2d, 0x3d, 0x41, 0x5f, 0x61, 0x7b]
            where leaf[index] != replacement {
                var mutated = leaf
                mutated[index] = replacement
                if let parsed = Envelope.parseCanonicalLedgerLeaf(mutated) {
                    accepted += 1
                    #expect(parsed.canonicalBytes() == mutated, "accepted a non-canonical leaf at byte \(index)")
                }
            }
        }
        #expect(accepted > 0, "the property was exercised")
        #expect(Envelope.parseCanonicalLedgerLeaf(leaf + [0x0a]) == nil)
        #expect(Envelope.parseCanonicalLedgerLeaf(Array(leaf.dropLast())) == nil)
        #expect(Base64.decodeCanonical(Array("Zm8=".utf8)) == Array("fo".utf8))
        for text in ["Zm9=", "Zm8", "Zm-v", "Zm8=Zm8=", "Zg==="] {
            #expect(Base64.decodeCanonical(Array(text.utf8)) == nil, "\(text)")
        }
    }

    @Test("a payload in a non-canonical spelling is refused")
    func nonCanonicalPayload() throws {
        let event = Event(
            log: "example.org/log",
            seq: 0,
            prev: .zero,
            time: Timestamp(millisecondsSinceEpoch: 0),
            type: "note.added",
            actor: TestKeys.admin.keyID,
            data: ["text": "x"]
        )
        var bytes = try event.canonicalBytes()
        bytes.insert(0x20, at: 1)
        #expect(throws: LedgerError.self) { try Event(canonicalBytes: bytes) }
    }

    @Test("PAE of the DSSE protocol example")
    func paeExample() {
        let pae = Envelope.preAuthenticationEncoding(
            payloadType: "http://example.com/HelloWorld",
            payload: Array("hello world".utf8)
        )
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }
}
