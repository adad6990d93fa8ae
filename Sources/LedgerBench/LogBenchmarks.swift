import Foundation
public import LedgerCore
import LedgerStore

/// `ledger bench append` and `ledger bench verify`: the ledger's append and verify rates against raw Ed25519.
public enum LogBenchmarks {
    /// Appends per second, batched (`batch` events per transaction) and one durable event at a time (`single`
    /// events), against the raw sign rate, each the median of `runs` runs in a temporary folder.
    ///
    /// - Returns: `{"benchmark": "append", "events", "batch", "runs", "rawSignPerSecond", "batchedAppendPerSecond",
    ///   "singleEvents", "singleDurableAppendPerSecond", "ratio", "target", "meetsTarget"}`.
    /// - Throws: `LedgerError` if a database cannot be made or an append fails.
    public static func append(
        events: Int,
        runs: Int,
        batch: Int,
        single: Int?,
        progress: (String) -> Void
    ) async throws -> JSONValue {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let key = SigningKey()
        let message = try Bench.samplePAE(key: key)
        let singleCount = single ?? min(events, 2000)
        var rawRates: [Double] = []
        var batchedRates: [Double] = []
        var singleRates: [Double] = []
        for run in 0..<runs {
            let signSeconds = try Bench.time {
                for _ in 0..<events { _ = try key.signature(for: message) }
            }
            rawRates.append(Double(events) / signSeconds)

            let ledger = try await Bench.newLedger(folder.path("batched-\(run).db"), key: key)
            let drafts = try (0..<events).map { index throws(LedgerError) in try Bench.draft(index) }
            let batchedSeconds = try await Bench.timeAsync {
                var start = 0
                while start < drafts.count {
                    let end = min(start + batch, drafts.count)
                    try await ledger.append(Array(drafts[start..<end]), signedBy: key)
                    start = end
                }
            }
            batchedRates.append(Double(events) / batchedSeconds)

            let singleLedger = try await Bench.newLedger(folder.path("single-\(run).db"), key: key)
            let singleSeconds = try await Bench.timeAsync {
                for index in 0..<singleCount { try await singleLedger.append([try Bench.draft(index)], signedBy: key) }
            }
            singleRates.append(Double(singleCount) / singleSeconds)
            progress(
                "run \(run + 1)/\(runs): sign \(Int(rawRates[run]))/s, batched append \(Int(batchedRates[run]))/s, single \(Int(singleRates[run]))/s"
            )
        }
        let ratios = zip(batchedRates, rawRates).map { $0 / $1 }
        return [
            "benchmark": "append", "events": .int(events), "batch": .int(batch), "runs": .int(runs),
            "rawSignPerSecond": .number(Bench.median(rawRates).rounded()),
            "batchedAppendPerSecond": .number(Bench.median(batchedRates).rounded()),
            "singleEvents": .int(singleCount),
            "singleDurableAppendPerSecond": .number(Bench.median(singleRates).rounded()),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": 0.8,
            "meetsTarget": .bool(Bench.median(ratios) >= 0.8),
        ]
    }

    /// Events verified per second (read from SQLite and replayed on `threads` threads, default all cores) against
    /// the raw verify rate times the threads, each the median of `runs` runs over a log of `events` entries.
    ///
    /// - Returns: `{"benchmark": "verify", "events", "threads", "runs", "rawVerifyPerSecond", "verifyPerSecond",
    ///   "ratio", "target", "meetsTarget"}`.
    /// - Throws: `LedgerError` if the log cannot be made, or `badSignature` if it does not verify.
    public static func verify(
        events: Int,
        runs: Int,
        threads: Int?,
        progress: (String) -> Void
    ) async throws -> JSONValue {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let key = SigningKey()
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let ledger = try await Bench.newLedger(folder.path("verify.db"), key: key)
        let drafts = try (0..<(events - 1)).map { index throws(LedgerError) in try Bench.draft(index) }
        var start = 0
        while start < drafts.count {
            let end = min(start + 5000, drafts.count)
            try await ledger.append(Array(drafts[start..<end]), signedBy: key)
            start = end
        }
        let store = ledger.store
        let message = try Bench.samplePAE(key: key)
        let signature = try key.signature(for: message)
        var rawRates: [Double] = []
        var verifyRates: [Double] = []
        for run in 0..<runs {
            let rawSeconds = try Bench.time {
                for _ in 0..<events where !key.publicKey.isValidSignature(signature, for: message) {
                    throw LedgerError(.badSignature, "the benchmark signature did not verify")
                }
            }
            rawRates.append(Double(events) / rawSeconds)
            var report: VerificationReport?
            let verifySeconds = try await Bench.timeAsync {
                let leaves = try await store.leaves(upTo: try await store.size())
                report = Verifier(concurrency: threads).verify(leaves: leaves)
            }
            guard let report, report.isVerified else {
                throw LedgerError(
                    .badSignature,
                    "the benchmark log did not verify: \(report?.failure?.description ?? "")"
                )
            }
            verifyRates.append(Double(report.entries) / verifySeconds)
            progress(
                "run \(run + 1)/\(runs): raw verify \(Int(rawRates[run]))/s, ledger verify \(Int(verifyRates[run]))/s on \(threads) threads"
            )
        }
        let ratios = zip(verifyRates, rawRates).map { $0 / ($1 * Double(threads)) }
        return [
            "benchmark": "verify", "events": .int(events), "threads": .int(threads), "runs": .int(runs),
            "rawVerifyPerSecond": .number(Bench.median(rawRates).rounded()),
            "verifyPerSecond": .number(Bench.median(verifyRates).rounded()),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": 0.7,
            "meetsTarget": .bool(Bench.median(ratios) >= 0.7),
        ]
    }
}
