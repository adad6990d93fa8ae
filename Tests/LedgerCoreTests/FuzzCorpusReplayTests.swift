import Foundation
import LedgerCore
import Testing

/// Replays the committed fuzz corpora of the core decoders (`Fuzz/Corpora/`, see docs/fuzzing.md) through the same
/// entry points as the libFuzzer targets in `Fuzz/Sources/LedgerFuzzTargets/FuzzTarget.swift`, in the ordinary test
/// build: every input MUST return or throw, and the round trips the fuzzers check MUST hold. The sanitizer build
/// itself (`Scripts/fuzz`) never runs in CI.
@Suite("Fuzz corpus replay: core decoders")
struct FuzzCorpusReplayTests {
    @Test(
        "Every corpus input is refused or accepted without a crash, and accepted ones round-trip",
        arguments: ["json", "envelope", "event", "ledger-leaf", "export", "checkpoint-note", "proof"]
    )
    func replay(target: String) throws {
        let inputs = try FuzzCorpus.inputs(of: target)
        #expect(!inputs.isEmpty, "Fuzz/Corpora/\(target) is empty")
        for input in inputs {
            switch target {
            case "json": Self.json(input)
            case "envelope": Self.envelope(input)
            case "event": _ = try? Event(canonicalBytes: input)
            case "ledger-leaf": Self.ledgerLeaf(input)
            case "export": Self.export(input)
            case "checkpoint-note": Self.checkpointNote(input)
            default: Self.proof(input)
            }
        }
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = try? CanonicalJSON.parse(bytes) else { return }
        let canonical = try? CanonicalJSON.encode(value)
        #expect(canonical != nil, "the parser accepted a value the encoder refuses")
        guard let canonical else { return }
        #expect((try? CanonicalJSON.parse(canonical)) == value)
        #expect((try? CanonicalJSON.canonicalize(canonical)) == canonical)
    }

    private static func envelope(_ bytes: [UInt8]) {
        guard let envelope = try? Envelope(jsonBytes: bytes) else { return }
        _ = envelope.canonicalBytes()
        _ = try? SignedEvent(envelope: envelope)
    }

    private static func ledgerLeaf(_ bytes: [UInt8]) {
        let general = try? Envelope(jsonBytes: bytes)
        _ = try? SignedEvent(leaf: bytes)
        guard let fast = Envelope.parseCanonicalLedgerLeaf(bytes) else { return }
        #expect(fast.canonicalBytes() == bytes)
        #expect(general == fast)
    }

    private static func export(_ bytes: [UInt8]) {
        guard bytes.last == 0x0a else { return }
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
        lines.removeLast()
        guard !lines.contains(where: { $0.isEmpty || $0.last == 0x0d }) else { return }
        _ = Verifier(concurrency: 1).verify(leaves: lines)
    }

    private static func checkpointNote(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? NoteVerifier(verifierKey: text)
        if let checkpoint = try? Checkpoint(text: text) { #expect(checkpoint.text == text) }
        guard let note = try? SignedNote.parse(utf8: bytes) else { return }
        if let checkpoint = try? Checkpoint(text: note.text) { #expect(checkpoint.text == note.text) }
        if let verifier = try? NoteVerifier(name: "example.com/log", publicKey: [UInt8](repeating: 0x42, count: 32)) {
            _ = try? note.verify(with: [verifier])
        }
    }

    private static func proof(_ bytes: [UInt8]) {
        guard let json = try? CanonicalJSON.parse(bytes), let document = try? ProofDocument(json: json) else { return }
        _ = document.tree
        _ = try? document.verify()
    }
}

/// The committed corpus of one fuzz target, `Fuzz/Corpora/TARGET/`, found from this file's place in the repository.
private enum FuzzCorpus {
    static func inputs(of target: String) throws -> [[UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = root.appendingPathComponent("Fuzz/Corpora/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
    }
}
