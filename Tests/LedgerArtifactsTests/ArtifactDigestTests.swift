import LedgerArtifacts
import LedgerCore
import Testing

@Suite("ArtifactDigest")
struct ArtifactDigestTests {
    /// SHA-256 known answers from FIPS 180-2 and for the empty string.
    static let knownAnswers: [(bytes: String, digest: String)] = [
        ("", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ]

    @Test("the digest of known bytes prints as sha256:<lowercase hex>")
    func knownAnswer() throws {
        for (bytes, text) in Self.knownAnswers {
            let digest = ArtifactDigest.of(Array(bytes.utf8))
            #expect(digest.description == text)
            #expect(ArtifactDigest(text) == digest)
            #expect(ArtifactDigest(sha256: digest.sha256) == digest)
        }
    }

    static let lowercase = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

    /// Near misses of a valid digest: wrong prefix, wrong case, wrong length, other characters.
    static let malformed: [String] = {
        let hex = lowercase
        let trimmed = String(hex.dropLast())
        let short = String(hex.dropLast(2))
        var texts: [String] = ["", "sha256:", hex, "sha256:" + hex.uppercased()]
        texts.append("sha256:BA" + short)
        texts += ["SHA256:" + hex, "sha512:" + hex, "sha256 :" + hex, "sha256: " + hex, " sha256:" + hex]
        texts += ["sha256:" + hex + " ", "sha256:" + hex + "\n", "sha256:" + trimmed, "sha256:" + hex + "0"]
        texts += ["sha256:" + trimmed + "g", "sha256:" + short + "é", "sha256:" + trimmed + "\u{0}"]
        texts += ["sha256:" + short + "\u{FF10}", "sha256:0x" + short, "sha256:sha256:" + hex]
        return texts
    }()

    @Test("parsing refuses anything but sha256: and 64 lowercase hex digits", arguments: malformed)
    func refusesMalformed(text: String) {
        #expect(ArtifactDigest(text) == nil)
    }

    @Test("ordering follows the hex text")
    func ordering() throws {
        let digests = (0..<50).map { ArtifactDigest.of([UInt8($0)]) }
        #expect(digests.sorted().map(\.description) == digests.map(\.description).sorted())
        let low = try #require(ArtifactDigest("sha256:" + String(repeating: "0", count: 63) + "1"))
        let high = try #require(ArtifactDigest("sha256:1" + String(repeating: "0", count: 63)))
        #expect(low < high)
    }
}
