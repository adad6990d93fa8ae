import Foundation
import LedgerAudit
import LedgerCore
import LedgerML
import LedgerPipeline
import Testing

/// Replays the committed fuzz corpora of the model, dataset, scoring and schedule decoders (`Fuzz/Corpora/`, see
/// docs/fuzzing.md) through the same entry points as the libFuzzer targets in
/// `Fuzz/Sources/LedgerFuzzTargets/FuzzTarget.swift`, in the ordinary test build: every input MUST return or throw,
/// and the round trips the fuzzers check MUST hold. The sanitizer build itself (`Scripts/fuzz`) never runs in CI.
@Suite("Fuzz corpus replay: model, dataset, scoring and cron decoders")
struct FuzzCorpusReplayTests {
    @Test(
        "Every corpus input is refused or accepted without a crash, and accepted ones round-trip",
        arguments: ["model-artifact", "csv", "scoring-request", "cron"]
    )
    func replay(target: String) throws {
        let inputs = try FuzzCorpus.inputs(of: target)
        #expect(!inputs.isEmpty, "Fuzz/Corpora/\(target) is empty")
        for input in inputs {
            switch target {
            case "model-artifact": Self.modelArtifact(input)
            case "csv": Self.csv(input)
            case "scoring-request": Self.scoringRequest(input)
            default: Self.cron(input)
            }
        }
    }

    /// The fuzzer also tries each artifact with its CRC-32 recomputed; the corpus keeps inputs as they were fed, so
    /// the replay does the same.
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
        #expect(model.serialized() == bytes)
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

    private static func cron(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self), let schedule = try? CronSchedule(text) else {
            return
        }
        #expect((try? CronSchedule(schedule.description)) == schedule)
        let instants = [0, 1_772_409_600_000, Int64.max, Int64.min].map(Timestamp.init(millisecondsSinceEpoch:))
        for instant in instants {
            _ = schedule.nextFire(after: instant)
            _ = schedule.previousFire(atOrBefore: instant)
        }
        let start = instants[1]
        _ = schedule.fires(
            after: start,
            through: Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + 86_400_000)
        )
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
