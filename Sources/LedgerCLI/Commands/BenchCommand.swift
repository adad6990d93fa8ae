import ArgumentParser
import Foundation
import LedgerCore
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure append and verify throughput against the raw Ed25519 rate, and the Isolation Forest.",
        discussion: """
            Runs in a temporary folder and never touches a workspace. Each figure is the median of --runs runs; the ratio is the median of the per-run ratios, so a noisy neighbour slows both sides of a pair alike. Build with -c release: a debug build is several times slower.

            Examples:
              swift run -c release ledger bench append --events 100000 --json
              swift run -c release ledger bench verify --events 100000 --json
              swift run -c release ledger bench projections --events 1000000 --json
              swift run -c release ledger bench model --data Benchmarks/datasets/adbench/cardio.csv --label label --json
            """,
        subcommands: [
            BenchAppendCommand.self, BenchVerifyCommand.self, BenchModelCommand.self, BenchProjectionsCommand.self,
            BenchWritersCommand.self, BenchWriterCommand.self,
        ]
    )
}

struct BenchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Events per run.", valueName: "N"))
    var events = 100_000

    @Option(help: ArgumentHelp("Runs per measurement; medians are reported.", valueName: "R"))
    var runs = 3

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard events >= 1, events <= 10_000_000 else { throw ValidationError("--events must be 1 to 10,000,000") }
        guard runs >= 1, runs <= 25 else { throw ValidationError("--runs must be 1 to 25") }
    }
}

struct BenchAppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Appends per second, batched and one durable event at a time, against the raw sign rate.",
        discussion: """
            Example:
              ledger bench append --events 100000 --batch 1000 --json
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: ArgumentHelp("Events per transaction in the batched measurement.", valueName: "B"))
    var batch = 1000

    @Option(
        help: ArgumentHelp("Events appended one durable transaction at a time (default: min(N, 2000)).", valueName: "M")
    )
    var single: Int?

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        if let single, single < 1 { throw ValidationError("--single must be at least 1") }
    }

    func run() async throws {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let key = SigningKey()
        let message = try Bench.samplePAE(key: key)
        let singleCount = single ?? min(options.events, 2000)
        var rawRates: [Double] = []
        var batchedRates: [Double] = []
        var singleRates: [Double] = []
        for run in 0..<options.runs {
            let signSeconds = try Bench.time {
                for _ in 0..<options.events { _ = try key.signature(for: message) }
            }
            rawRates.append(Double(options.events) / signSeconds)

            let ledger = try await Bench.newLedger(folder.path("batched-\(run).db"), key: key)
            let drafts = (0..<options.events).map(Bench.draft)
            let batchedSeconds = try await Bench.timeAsync {
                var start = 0
                while start < drafts.count {
                    let end = min(start + batch, drafts.count)
                    try await ledger.append(Array(drafts[start..<end]), signedBy: key)
                    start = end
                }
            }
            batchedRates.append(Double(options.events) / batchedSeconds)

            let singleLedger = try await Bench.newLedger(folder.path("single-\(run).db"), key: key)
            let singleSeconds = try await Bench.timeAsync {
                for index in 0..<singleCount { try await singleLedger.append([Bench.draft(index)], signedBy: key) }
            }
            singleRates.append(Double(singleCount) / singleSeconds)
            Console.current.err(
                "run \(run + 1)/\(options.runs): sign \(Int(rawRates[run]))/s, batched append \(Int(batchedRates[run]))/s, single \(Int(singleRates[run]))/s"
            )
        }
        let ratios = zip(batchedRates, rawRates).map { $0 / $1 }
        let result: JSONValue = [
            "benchmark": "append", "events": .int(options.events), "batch": .int(batch), "runs": .int(options.runs),
            "rawSignPerSecond": .number(Bench.median(rawRates).rounded()),
            "batchedAppendPerSecond": .number(Bench.median(batchedRates).rounded()),
            "singleEvents": .int(singleCount),
            "singleDurableAppendPerSecond": .number(Bench.median(singleRates).rounded()),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": 0.8,
            "meetsTarget": .bool(Bench.median(ratios) >= 0.8),
        ]
        Bench.print(result, json: options.json)
    }
}

struct BenchVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Events verified per second (read from SQLite and replayed) against the raw verify rate × threads.",
        discussion: """
            Example:
              ledger bench verify --events 100000 --json
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: ArgumentHelp("Verifier threads (default: all cores).", valueName: "T"))
    var threads: Int?

    func run() async throws {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let key = SigningKey()
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let ledger = try await Bench.newLedger(folder.path("verify.db"), key: key)
        let drafts = (0..<(options.events - 1)).map(Bench.draft)
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
        for run in 0..<options.runs {
            let rawSeconds = try Bench.time {
                for _ in 0..<options.events where !key.publicKey.isValidSignature(signature, for: message) {
                    throw LedgerError(.badSignature, "the benchmark signature did not verify")
                }
            }
            rawRates.append(Double(options.events) / rawSeconds)
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
            Console.current.err(
                "run \(run + 1)/\(options.runs): raw verify \(Int(rawRates[run]))/s, ledger verify \(Int(verifyRates[run]))/s on \(threads) threads"
            )
        }
        let ratios = zip(verifyRates, rawRates).map { $0 / ($1 * Double(threads)) }
        let result: JSONValue = [
            "benchmark": "verify", "events": .int(options.events), "threads": .int(threads), "runs": .int(options.runs),
            "rawVerifyPerSecond": .number(Bench.median(rawRates).rounded()),
            "verifyPerSecond": .number(Bench.median(verifyRates).rounded()),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": 0.7,
            "meetsTarget": .bool(Bench.median(ratios) >= 0.7),
        ]
        Bench.print(result, json: options.json)
    }
}

enum Bench {
    static func draft(_ index: Int) -> EventDraft {
        EventDraft(
            type: "note.added",
            data: [
                "text": .string("benchmark event \(index): retrained fraud-scorer after the weekly window closed"),
                "refs": .array([.int(max(0, index))]),
            ]
        )
    }

    /// The PAE of a typical event payload, so raw and ledger figures sign the same number of bytes.
    static func samplePAE(key: SigningKey) throws -> [UInt8] {
        let event = Event(
            log: "bench.local/log",
            seq: 12_345,
            prev: Hash256.sha256([1, 2, 3]),
            time: Timestamp(millisecondsSinceEpoch: 1_780_000_000_000),
            type: "note.added",
            actor: key.keyID,
            data: draft(12_344).data
        )
        return Envelope.preAuthenticationEncoding(
            payloadType: Envelope.eventPayloadType,
            payload: try event.canonicalBytes()
        )
    }

    static func newLedger(_ path: String, key: SigningKey) async throws -> Ledger {
        try await Ledger.create(
            store: try SQLiteEventStore(path: path, create: true),
            clock: SystemClock(),
            logID: "bench.local/log",
            keys: [KeyRecord(publicKey: key.publicKey, name: "bench", roles: Set(Role.allCases))],
            signedBy: key
        )
    }

    static func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return (ContinuousClock.now - start).inSeconds
    }

    static func timeAsync(_ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).inSeconds
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    static func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    static func print(_ result: JSONValue, json: Bool) {
        if json {
            Console.current.json(result)
            return
        }
        for (key, value) in (result.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            Console.current.out("\(key): \(value)")
        }
    }
}

/// A temporary folder for benchmark databases, removed afterwards.
struct BenchFolder {
    let url: URL

    init() throws(LedgerError) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-bench-\(UUID().uuidString)")
        try Files.createDirectory(url.path)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
