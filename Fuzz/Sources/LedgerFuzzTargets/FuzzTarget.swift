import LedgerAudit
import LedgerCore
import LedgerML
import LedgerPipeline

// `parseCanonicalLedgerLeaf` is `package`: only a testable import reaches it from this package, which is why
// `Scripts/fuzz` builds with `-enable-testing`.
@testable import LedgerCore

/// The decoders that face untrusted bytes, one libFuzzer target each.
///
/// Each `run` feeds the bytes to the same public entry points the product uses and MUST return for every input:
/// a decoder may refuse (throw or return nil), but a trap, an out-of-bounds access, a leak or a hang is a finding.
/// Where a decoder documents a round trip (it accepts exactly what its encoder writes), `run` checks that too with
/// `precondition`, so a broken contract is a crash the fuzzer reports.
///
/// `Tests/*/FuzzCorpusReplayTests.swift` replay `Fuzz/Corpora/<name>/` through the same calls in the ordinary
/// test build; keep the two in step when a body here changes.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `CanonicalJSON.parse`, and for what it accepts: `encode` succeeds, re-parses to the same value and is a fixed
    /// point of `canonicalize`.
    case json
    /// `Envelope(jsonBytes:)` then `SignedEvent(envelope:)`: an envelope from `append --envelope` or the HTTP API.
    case envelope
    /// `Event(canonicalBytes:)`: a signed payload, which must be canonical JSON with exactly the event's members.
    case event
    /// The ledger-leaf fast path `Envelope.parseCanonicalLedgerLeaf` against `SignedEvent(leaf:)`: whatever the
    /// fast path accepts, the general parser accepts as the same envelope with the same canonical bytes.
    case ledgerLeaf = "ledger-leaf"
    /// An export file: split into lines as `ledger verify --from` does, then the whole `Verifier`.
    case export
    /// `SignedNote.parse(utf8:)`, `Checkpoint(text:)` (which must re-serialize to the text it read),
    /// `NoteVerifier(verifierKey:)`, and note verification against a fixed key.
    case checkpointNote = "checkpoint-note"
    /// `ProofDocument(json:)` and `verify()`: a proof file for `ledger prove verify`.
    case proof
    /// `IsolationForest(serialized:)` (must re-serialize to the same bytes) and scoring one row with what it
    /// accepts; each input is also tried with its CRC-32 trailer recomputed, so mutations reach past the checksum.
    case modelArtifact = "model-artifact"
    /// `NumericCSV.parse` (with and without a label column) and the dataset reader `TrainingData(csv:)`.
    case csv
    /// A `POST /v1/score` body: `CanonicalJSON.parse`, `scoreFrom` through `Timestamp(userInput:)`, each event through
    /// `AuditEvent(json:index:)` and the events through `DatasetBuilder.featureRows` with feature spec v1.
    case scoringRequest = "scoring-request"
    /// `CronSchedule(_:)` and, for what it accepts: its normalized description reads back as an equal schedule, and
    /// the next and previous fire times around fixed instants (the far ends of `Timestamp` included).
    case cron

    /// Runs the target on one input.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .envelope: Self.envelope(bytes)
        case .event: _ = try? Event(canonicalBytes: bytes)
        case .ledgerLeaf: Self.ledgerLeaf(bytes)
        case .export: Self.export(bytes)
        case .checkpointNote: Self.checkpointNote(bytes)
        case .proof: Self.proof(bytes)
        case .modelArtifact: Self.modelArtifact(bytes)
        case .csv: Self.csv(bytes)
        case .scoringRequest: Self.scoringRequest(bytes)
        case .cron: Self.cron(bytes)
        }
    }

    private static func json(_ bytes: [UInt8]) {
        guard let value = try? CanonicalJSON.parse(bytes) else { return }
        guard let canonical = try? CanonicalJSON.encode(value) else {
            preconditionFailure("the parser accepted a value the encoder refuses")
        }
        precondition((try? CanonicalJSON.parse(canonical)) == value, "the canonical form parses to another value")
        precondition((try? CanonicalJSON.canonicalize(canonical)) == canonical, "canonical JSON is not a fixed point")
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
        precondition(fast.canonicalBytes() == bytes, "the fast path accepted a leaf that is not canonical")
        precondition(general == fast, "the fast path and the general parser decode a leaf differently")
    }

    private static func export(_ bytes: [UInt8]) {
        // As `VerifyCommand.readExport`: one leaf per line, each line ended by exactly one newline.
        guard bytes.last == 0x0a else { return }
        var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
        lines.removeLast()
        guard !lines.contains(where: { $0.isEmpty || $0.last == 0x0d }) else { return }
        _ = Verifier(concurrency: 1).verify(leaves: lines)
    }

    /// A fixed Ed25519 note key, so that mutated signature lines reach signature verification.
    private static let noteVerifier = try? NoteVerifier(
        name: "example.com/log",
        publicKey: [UInt8](repeating: 0x42, count: 32)
    )

    private static func checkpointNote(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? NoteVerifier(verifierKey: text)
        if let checkpoint = try? Checkpoint(text: text) {
            precondition(checkpoint.text == text, "a parsed checkpoint re-serializes to other bytes")
        }
        guard let note = try? SignedNote.parse(utf8: bytes) else { return }
        if let checkpoint = try? Checkpoint(text: note.text) {
            precondition(checkpoint.text == note.text, "a parsed checkpoint re-serializes to other bytes")
        }
        if let noteVerifier { _ = try? note.verify(with: [noteVerifier]) }
    }

    private static func proof(_ bytes: [UInt8]) {
        guard let json = try? CanonicalJSON.parse(bytes), let document = try? ProofDocument(json: json) else { return }
        _ = document.tree
        _ = try? document.verify()
    }

    private static func modelArtifact(_ bytes: [UInt8]) {
        checkModel(bytes)
        guard bytes.count > 4 else { return }
        var fixed = bytes
        let checksum = crc32(fixed.dropLast(4))
        for index in 0..<4 { fixed[fixed.count - 4 + index] = UInt8(truncatingIfNeeded: checksum >> (8 * index)) }
        if fixed != bytes { checkModel(fixed) }
    }

    private static func checkModel(_ bytes: [UInt8]) {
        guard let model = try? IsolationForest(serialized: bytes) else { return }
        precondition(model.serialized() == bytes, "a parsed model re-serializes to other bytes")
        let columns = model.featureNames.count
        guard columns > 0, columns <= 4096,
            let row = try? FeatureMatrix(
                values: [Double](repeating: 0.5, count: columns),
                rows: 1,
                columns: columns,
                featureNames: model.featureNames
            )
        else { return }
        _ = try? model.scores(row)
    }

    /// CRC-32 (IEEE 802.3, as the artifact's trailer), computed here because LedgerML keeps its own internal.
    private static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static func csv(_ bytes: [UInt8]) {
        _ = try? NumericCSV.parse(bytes, labelColumn: nil)
        _ = try? NumericCSV.parse(bytes, labelColumn: "label", ignoring: ["holdout", "id"])
        _ = try? TrainingData(csv: bytes)
    }

    private static func scoringRequest(_ bytes: [UInt8]) {
        guard let json = try? CanonicalJSON.parse(bytes) else { return }
        var scoreFrom: Timestamp?
        if let text = json["scoreFrom"]?.stringValue {
            scoreFrom = Timestamp(userInput: text)
            _ = Timestamp(rfc3339: text)
        }
        _ = try? AuditEvent.events(from: json["events"] ?? .null)
        guard let elements = json["events"]?.arrayValue, elements.count <= FeatureRows.maximumEvents else { return }
        var events: [AuditEvent] = []
        for (index, element) in elements.enumerated() {
            guard let event = try? AuditEvent(json: element, index: index) else { return }
            events.append(event)
        }
        _ = try? DatasetBuilder.featureRows(of: events, scoreFrom: scoreFrom, featureSpec: DatasetBuilder.featureSpecV1)
    }

    /// Instants the schedule is evaluated around: the epoch, a Monday in 2026, and the far ends of `Timestamp`.
    private static let cronInstants: [Timestamp] = [
        Timestamp(millisecondsSinceEpoch: 0),
        Timestamp(millisecondsSinceEpoch: 1_772_409_600_000),
        Timestamp(millisecondsSinceEpoch: Int64.max),
        Timestamp(millisecondsSinceEpoch: Int64.min),
    ]

    private static func cron(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self), let schedule = try? CronSchedule(text) else {
            return
        }
        precondition(
            (try? CronSchedule(schedule.description)) == schedule,
            "a schedule's description reads back as another"
        )
        for instant in cronInstants {
            _ = schedule.nextFire(after: instant)
            _ = schedule.previousFire(atOrBefore: instant)
        }
        let start = cronInstants[1]
        _ = schedule.fires(
            after: start,
            through: Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + 86_400_000)
        )
    }
}
