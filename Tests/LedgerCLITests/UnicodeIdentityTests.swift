import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerTesting
import Testing

/// Issue 16, case 1: a log id with "é" and an envelope whose payload spells it decomposed (e and U+0301). Swift's
/// `==` called the two equal, so `append --envelope` and `verify` accepted what the auditor's script and the Python
/// peer refuse. Log ids compare byte for byte.
@Suite("A log id in another Unicode normalization is another log")
struct UnicodeIdentityTests {
    static let composed = "caf\u{E9}.example/cli"
    static let decomposed = "cafe\u{301}.example/cli"

    /// A note for the workspace's next seq, signed by its admin key, whose payload names the decomposed log id.
    static func lookAlike(after export: [UInt8], workspace: TestWorkspace) throws -> Envelope {
        let lines = export.split(separator: UInt8(ascii: "\n"))
        let last = try #require(lines.last)
        let previous = try SignedEvent(leaf: Array(last)).event
        let key = try SigningKey(pemRepresentation: String(contentsOfFile: workspace.adminKey, encoding: .utf8))
        let event = Event(
            log: Self.decomposed,
            seq: UInt64(lines.count),
            prev: MerkleTree.leafHash(Array(last)),
            time: Timestamp(millisecondsSinceEpoch: previous.time.millisecondsSinceEpoch + 1),
            type: "note.added",
            actor: key.keyID,
            data: ["text": "look-alike"]
        )
        #expect(previous.log == Self.decomposed && !previous.log.hasSameBytes(as: Self.decomposed))
        return try SignedEvent(signing: event, with: key).envelope
    }

    @Test("append --envelope refuses it, and verify --from fails at its seq")
    func decomposedLogIDIsRefused() async throws {
        let workspace = try await TestWorkspace.make(logID: Self.composed)
        let export = workspace.folder.path("log.jsonl")
        try #require(await workspace.run("export", "--out", export).status == 0)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: export)))
        let size = bytes.split(separator: UInt8(ascii: "\n")).count
        let envelope = try Self.lookAlike(after: bytes, workspace: workspace)

        let file = try workspace.folder.write(
            String(decoding: envelope.canonicalBytes(), as: UTF8.self),
            to: "look-alike.dsse.json"
        )
        let appended = await workspace.run("append", "--envelope", file)
        #expect(appended.status != 0)
        #expect(appended.err.contains("normalization"), "\(appended.err)")
        let after = workspace.folder.path("after.jsonl")
        try #require(await workspace.run("export", "--out", after).status == 0)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: after))) == bytes, "nothing was written")

        let forged = workspace.folder.path("forged.jsonl")
        try Data(bytes + envelope.canonicalBytes() + [UInt8(ascii: "\n")]).write(to: URL(fileURLWithPath: forged))
        let verified = await ledger("verify", "--from", forged, "--trust", workspace.genesis)
        #expect(verified.status == 3)
        #expect((verified.out + verified.err).contains("seq \(size)"), "\(verified.out)\(verified.err)")
        #expect(await ledger("verify", "--from", export, "--trust", workspace.genesis).status == 0)
    }
}
