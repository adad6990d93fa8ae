import Crypto
import LedgerCore
import LedgerTesting
import Testing

@Suite("Keys and timestamps")
struct KeysAndTimeTests {
    @Test("RFC 8032 TEST 1: seed to public key, and keyid is the SHA-256 of the raw public key")
    func rfc8032() throws {
        let seed = try #require(Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let key = try SigningKey(seed: seed)
        #expect(
            Hex.encode(key.publicKey.rawRepresentation)
                == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        )
        #expect(key.keyID == Hash256.sha256(key.publicKey.rawRepresentation).hex)
        // RFC 8032 TEST 1 signs the empty message.
        #expect(
            Hex.encode(try key.signature(for: [UInt8]()))
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
    }

    /// libsodium's small-order blocklist, with and without the sign bit, and non-canonical y >= p.
    static let weakKeys: [String] = [
        String(repeating: "0", count: 64), "01" + String(repeating: "0", count: 62),
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ec" + String(repeating: "f", count: 60) + "7f", "ed" + String(repeating: "f", count: 60) + "7f",
        "ee" + String(repeating: "f", count: 60) + "7f", "01" + String(repeating: "0", count: 60) + "80",
    ]

    @Test("small-order and non-canonical public keys are refused", arguments: weakKeys)
    func weakPublicKeys(hex: String) throws {
        let raw = try #require(Hex.decode(hex))
        let error = #expect(throws: LedgerError.self) { try PublicKey(rawRepresentation: raw) }
        #expect(error?.code == .key)
    }

    @Test("the identity key really is forgeable, which is why it is refused")
    func identityKeyForgery() throws {
        // R = identity, S = 0 verifies any message under the identity key in this library.
        let identity = try Curve25519.Signing.PublicKey(rawRepresentation: [1] + [UInt8](repeating: 0, count: 31))
        let forged = [1] + [UInt8](repeating: 0, count: 63)
        #expect(identity.isValidSignature(forged, for: Array("any message".utf8)))
    }

    @Test("PKCS#8 and SPKI PEM round trips, and the fixed DER prefixes")
    func pemRoundTrip() throws {
        let key = TestKeys.admin
        let parsed = try SigningKey(pemRepresentation: key.pemRepresentation)
        #expect(parsed.publicKey == key.publicKey)
        #expect(try PublicKey(text: key.publicKey.pemRepresentation) == key.publicKey)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"))
        #expect(key.publicKey.pemRepresentation.hasPrefix("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"))
        #expect(!key.description.contains(String(key.pemRepresentation.dropFirst(28).prefix(20))))
    }

    @Test(
        "malformed keys are refused with key.invalid",
        arguments: [
            "", "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMCowBQYDK2VwAyEA\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMC4CAQAw\n-----END RSA PRIVATE KEY-----",
        ]
    )
    func malformedPrivateKey(text: String) {
        #expect(throws: LedgerError.self) { try SigningKey(pemRepresentation: text) }
    }

    @Test(
        "timestamps format and parse RFC 3339 UTC with milliseconds",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000Z"), (Int64(1_772_528_400_123), "2026-03-03T09:00:00.123Z"),
            (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"), (Int64(-1), "1969-12-31T23:59:59.999Z"),
            (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
        ]
    )
    func timestamps(millis: Int64, text: String) {
        #expect(Timestamp(millisecondsSinceEpoch: millis).rfc3339 == text)
        #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == millis)
    }

    @Test(
        "only the one spelling parses",
        arguments: [
            "2026-03-03T09:00:00Z", "2026-03-03T09:00:00.123+00:00", "2026-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-03-03t09:00:00.123Z", "2026-03-03T24:00:00.000Z", "2026-03-03T09:00:00.1234Z",
        ]
    )
    func badTimestamps(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test("base64 and hex round trips, and non-canonical base64 is refused")
    func encodings() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Hex.decode(Hex.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm9=") == nil)
        #expect(Base64.decode("Z") == nil)
        #expect(Base64.decode("Zm*v") == nil)
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
