import Foundation
import LedgerCore
import LedgerTestSupport
import LedgerWorkspace
import Testing

/// Issue 16, review findings on input handling: whatever the ledger appends, its export reads back (an export line
/// may hold ``Envelope/maximumLeafBytes``); text inputs are never decoded lossily; a batch is split on bytes, so
/// invalid UTF-8 and CRLF line endings are refused by name and append nothing.
@Suite("Input bounds (review)")
struct InputBoundsReviewTests {
    /// Writes `bytes` to `name` inside `folder` and returns its path.
    static func write(_ bytes: [UInt8], to name: String, in folder: TemporaryFolder) throws -> String {
        let file = folder.path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// The append path now refuses a new leaf over 65,535 bytes (a C2SP entry bundle's limit), but a log written by an
    /// earlier release may hold leaves up to ``Envelope/maximumLeafBytes``, and must keep verifying. So the export is
    /// made by hand: the workspace's genesis, then a note with 70,000 subjects signed by its admin key.
    @Test(
        "an export line of almost 12 MiB (an earlier release's event) reads back with verify --from and restore --from"
    )
    func largestEventRoundTrips() async throws {
        let workspace = try await TestWorkspace.make()
        let genesisExport = workspace.folder.path("genesis.jsonl")
        #expect(await workspace.run("export", "--out", genesisExport).status == 0)
        let genesisLine = try Data(contentsOf: URL(fileURLWithPath: genesisExport)).split(separator: 0x0a)[0]
        let genesis = try SignedEvent(leaf: Array(genesisLine))
        let admin = try KeyFiles.loadPrivateKey(workspace.adminKey)
        let digest = try #require(Hash256(hex: String(repeating: "ab", count: 32)))
        let event = Event(
            log: genesis.event.log,
            seq: 1,
            prev: genesis.leafHash,
            time: Timestamp(millisecondsSinceEpoch: genesis.event.time.millisecondsSinceEpoch + 1),
            type: EventType.noteAdded.rawValue,
            actor: admin.keyID,
            subject: (0..<70_000).map { Subject(name: "s\($0)", sha256: digest) },
            data: ["text": "many"]
        )
        let big = try SignedEvent(signing: event, with: admin)
        #expect(big.leaf.count > Envelope.maximumBundledLeafBytes)
        let export = try Self.write(
            Array(genesisLine) + [0x0a] + big.leaf + [0x0a],
            to: "export.jsonl",
            in: workspace.folder
        )
        #expect(big.leaf.count > 8 << 20, "the export line is longer than the event data limit")
        #expect(big.leaf.count < Envelope.maximumLeafBytes)
        let verified = await ledger("verify", "--from", export, "--trust", workspace.genesis)
        #expect(verified.status == 0, "\(verified.err)")
        let restored = await workspace.run("restore", "--from", export)
        #expect(!restored.err.contains("is longer than"), "\(restored.err)")
    }

    @Test("an export line over 12 MiB is a verification verdict: exit 3, and JSON with --json")
    func overlongExportLineIsAVerdict() async throws {
        let workspace = try await TestWorkspace.make()
        let result = await ledger("verify", "--from", "/dev/zero", "--trust", workspace.genesis, "--json")
        #expect(result.status == 3, "\(result.err)")
        #expect(result.json != nil, "\(result.out)")
        #expect(
            (result.out + result.err).contains("line 1 is longer than 12 MiB (12582912 bytes)"),
            "\(result.out) \(result.err)"
        )
    }

    @Test("--envelope reads an envelope up to the leaf limit and refuses one over it, naming the limit")
    func envelopeLimitIsTheLeafLimit() async throws {
        let workspace = try await TestWorkspace.make()
        let big = try workspace.folder.write(String(repeating: " ", count: Envelope.maximumLeafBytes + 1), to: "e.json")
        let refused = await workspace.run("append", "--envelope", big)
        #expect(refused.status == 1)
        #expect(refused.err.contains("over the limit of 12 MiB (12582912 bytes) for envelope"), "\(refused.err)")
        #expect(try await workspace.size() == 1, "nothing was appended")
    }

    @Test("a checkpoint with a byte that is not UTF-8 is refused, naming the file and the offset")
    func checkpointWithInvalidUTF8() async throws {
        let workspace = try await TestWorkspace.make()
        let file = workspace.folder.path("cp.txt")
        let made = await workspace.run("checkpoint", "--out", file)
        #expect(made.status == 0, "\(made.err)")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let good = bytes.count
        // A signature line from an unknown key (ignored when verifying), its name holding the byte 0xFF.
        bytes += Array("\u{2014} witness".utf8) + [0xff] + Array(".example ".utf8)
        bytes += Array(Data(repeating: 7, count: 68).base64EncodedString().utf8) + [0x0a]
        let bad = try Self.write(bytes, to: "bad.txt", in: workspace.folder)
        let offset = good + "\u{2014} witness".utf8.count
        let checked = await workspace.run("checkpoint", "verify", bad)
        #expect(checked.status != 0, "\(checked.out)")
        #expect(
            checked.err.contains("checkpoint \(bad) is not valid UTF-8: a bad byte at offset \(offset)"),
            "\(checked.err)"
        )
        let verified = await workspace.run("verify", "--checkpoint", bad)
        #expect(verified.status != 0, "\(verified.out)")
        #expect(verified.err.contains("is not valid UTF-8"), "\(verified.err)")
    }

    @Test("a batch line that is not UTF-8 is refused like --data, and nothing of the batch is appended")
    func batchWithInvalidUTF8() async throws {
        let workspace = try await TestWorkspace.make()
        let good = Array(#"{"type":"note.added","data":{"text":"ok"}}"#.utf8) + [0x0a]
        let bad = Array(#"{"type":"note.added","data":{"text":"caf"#.utf8) + [0xe9] + Array(#""}}"#.utf8) + [0x0a]
        let batch = try Self.write(good + bad, to: "latin1.jsonl", in: workspace.folder)
        let result = await workspace.run("append", "--batch", batch, "--key", workspace.adminKey)
        #expect(result.status == 1)
        #expect(
            result.err.contains("\(batch):2: not valid UTF-8: a bad byte at offset 40 of the line"),
            "\(result.err)"
        )
        #expect(try await workspace.size() == 1, "not even the good first line was appended")
    }

    @Test("a CRLF batch is refused by line, telling to use LF, and nothing is appended")
    func batchWithCRLF() async throws {
        let workspace = try await TestWorkspace.make()
        let line = #"{"type":"note.added","data":{"text":"ok"}}"#
        let batch = try workspace.folder.write(line + "\r\n" + line + "\r\n", to: "crlf.jsonl")
        let result = await workspace.run("append", "--batch", batch, "--key", workspace.adminKey)
        #expect(result.status == 1)
        #expect(result.err.contains("line 1 ends with CR; use LF line endings"), "\(result.err)")
        #expect(try await workspace.size() == 1, "nothing was appended")
    }
}
