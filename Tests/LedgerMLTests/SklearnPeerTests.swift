import Foundation
import LedgerML
import LedgerTesting
import Testing

/// The Python peer (Tests/Peers/sklearn_metrics_peer.py) and how to reach it.
enum SklearnPeer {
    /// The Python with scikit-learn: $LEDGER_PYTHON (which .ci/run sets to its venv), else
    /// /usr/bin/python3; nil when that is missing or cannot import sklearn.
    static let python: String? = {
        let candidate = ProcessInfo.processInfo.environment["LEDGER_PYTHON"] ?? "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: candidate),
            let check = try? run(candidate, ["-c", "import sklearn"], input: Data()),
            check.status == 0
        else { return nil }
        return candidate
    }()

    /// In CI every peer must be present: a missing one fails instead of skipping.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Peers/sklearn_metrics_peer.py").path
    }

    /// Runs a program with `input` on standard input and waits for it.
    static func run(
        _ executable: String,
        _ arguments: [String],
        input: Data
    ) throws -> (
        status: Int32, out: Data, err: String
    ) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let inPipe = Pipe()
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        inPipe.fileHandleForWriting.write(input)
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, out, String(decoding: err, as: UTF8.self))
    }
}

/// Our metrics agree with scikit-learn's, which we did not write.
@Suite("scikit-learn peer")
struct SklearnPeerTests {
    /// Seeded cases with many ties (scores rounded to one decimal) and varied class balance.
    static let cases: [(rows: Int, anomalyShare: Double, seed: UInt64)] = [
        (10, 0.3, 1), (57, 0.1, 2), (200, 0.5, 3), (1000, 0.02, 4), (5000, 0.1, 5), (3, 0.5, 6),
    ]

    @Test(
        "AUC-ROC and average precision equal sklearn's to 1e-9 on tied, seeded data",
        .enabled(
            if: SklearnPeer.python != nil || SklearnPeer.required,
            "set LEDGER_PYTHON to a Python with scikit-learn to run Tests/Peers/sklearn_metrics_peer.py"
        ),
        arguments: cases.indices
    )
    func agree(index: Int) throws {
        let python = try #require(SklearnPeer.python, "a Python with scikit-learn (set LEDGER_PYTHON)")
        let testCase = Self.cases[index]
        var random = TestRandom(seed: testCase.seed)
        var labels: [UInt8] = []
        var scores: [Double] = []
        while labels.count < testCase.rows {
            let label: UInt8 = random.unit() < testCase.anomalyShare ? 1 : 0
            labels.append(label)
            scores.append(((random.unit() + 0.3 * Double(label)) * 10).rounded() / 10)
        }
        // Both classes present, so both metrics are defined.
        if !labels.contains(1) { labels[0] = 1 }
        if !labels.contains(0) { labels[labels.count - 1] = 0 }
        let request = try JSONSerialization.data(withJSONObject: ["scores": scores, "labels": labels.map(Int.init)])
        let result = try SklearnPeer.run(python, [SklearnPeer.script], input: request)
        try #require(result.status == 0, "peer failed: \(result.err)")
        let reply = try #require(try JSONSerialization.jsonObject(with: result.out) as? [String: Any])
        let peerAUC = try #require(reply["roc_auc"] as? Double)
        let peerAP = try #require(reply["average_precision"] as? Double)
        let auc = try Metrics.aucROC(scores: scores, labels: labels)
        let averagePrecision = try Metrics.averagePrecision(scores: scores, labels: labels)
        #expect(abs(auc - peerAUC) < 1e-9, "AUC ours \(auc), sklearn \(peerAUC)")
        #expect(abs(averagePrecision - peerAP) < 1e-9, "AP ours \(averagePrecision), sklearn \(peerAP)")
    }
}
