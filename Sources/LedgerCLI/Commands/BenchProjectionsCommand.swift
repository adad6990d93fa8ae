import ArgumentParser
import Foundation
import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerSimulation
import LedgerStore
import LedgerWorkspace

struct BenchProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Projection rebuilds per second against merely reading and decoding the same events.",
        discussion: """
            Generates a random valid governance history of --events events (GovernanceSimulator, seeded by --seed) in memory, copies it into a SQLite log in a temporary folder, then alternates, --runs times, the baseline (read the log in chunks and decode every entry, as a rebuild does) and a rebuild of every projection into a fresh SQLite read-table file. Reports the median rate of each, the median of the per-run ratios rebuild / baseline against the target 0.5, the row counts and the generation time. Build with -c release.

            Example:
              ledger bench projections --events 100000 --runs 3 --json
            """
    )

    @Option(help: ArgumentHelp("Events in the generated log, genesis included.", valueName: "N"))
    var events = 1_000_000

    @Option(
        name: [.customLong("runs"), .customLong("repeat")],
        help: ArgumentHelp("Runs per measurement; medians are reported.", valueName: "R")
    )
    var runs = 3

    @Option(help: ArgumentHelp("The seed of the generated history.", valueName: "SEED"))
    var seed = 1

    @Flag(help: "Print the results as JSON.")
    var json = false

    /// Entries per read, as the rebuild reads them (`ProjectionUpdater.chunkSize`).
    static let chunkSize: UInt64 = 4096
    /// Entries per transaction when copying the generated log into SQLite.
    static let copyBatch: UInt64 = 20_000
    static let target = 0.5

    func validate() throws {
        guard events >= 1, events <= 10_000_000 else { throw ValidationError("--events must be 1 to 10,000,000") }
        guard runs >= 1, runs <= 25 else { throw ValidationError("--runs must be 1 to 25") }
        guard seed >= 0 else { throw ValidationError("--seed must be at least 0") }
    }

    func run() async throws {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let log = try SQLiteEventStore(path: folder.path("ledger.db"), create: true)
        let generation = try await Self.generate(UInt64(events), seed: UInt64(seed), into: log)
        let size = try await log.size()

        let tablesPath = folder.path("ledger.projections.db")
        var readRates: [Double] = []
        var rebuildRates: [Double] = []
        var projections = Projections()
        for run in 0..<runs {
            var decoded = 0
            let readSeconds = try await Bench.timeAsync { decoded = try await Self.readAndDecode(log, size: size) }
            guard UInt64(decoded) == size else {
                throw LedgerError(.storage, "the baseline decoded \(decoded) of \(size) entries")
            }
            readRates.append(Double(decoded) / readSeconds)

            Self.removeDatabase(at: tablesPath)
            let tables = try SQLiteProjectionStore(path: tablesPath)
            let rebuildSeconds = try await Bench.timeAsync {
                projections = try await ProjectionUpdater.rebuild(log: log, into: tables)
            }
            guard projections.nextSeq == size else {
                throw LedgerError(.storage, "the rebuild folded \(projections.nextSeq) of \(size) entries")
            }
            rebuildRates.append(Double(size) / rebuildSeconds)
            Console.current.err(
                "run \(run + 1)/\(runs): read + decode \(Int(readRates[run]))/s, rebuild \(Int(rebuildRates[run]))/s"
            )
        }
        let ratios = zip(rebuildRates, readRates).map { $0 / $1 }
        let rows: JSONValue = [
            "registry": .int(projections.registry.count),
            "deployments": .int(projections.deployments.values.reduce(0) { $0 + $1.count }),
            "runs": .int(projections.runs.count), "lineage": .int(projections.lineage.count),
            "drift": .int(projections.drift.count),
        ]
        let result: JSONValue = [
            "benchmark": "projections", "events": .int(Int(size)), "runs": .int(runs), "seed": .int(seed),
            "generationSeconds": .number(Bench.round3(generation.simulated + generation.stored)),
            "storeSeconds": .number(Bench.round3(generation.stored)),
            "readDecodePerSecond": .number(Bench.median(readRates).rounded()),
            "rebuildPerSecond": .number(Bench.median(rebuildRates).rounded()), "rows": rows,
            "mix": .object(generation.mix.mapValues { .int($0) }),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": .number(Self.target),
            "meetsTarget": .bool(Bench.median(ratios) >= Self.target),
        ]
        Bench.print(result, json: json)
    }

    /// Simulates `count` events in memory (no fsync per append), then copies them into `log` in large transactions.
    ///
    /// - Returns: the seconds spent simulating, the seconds spent copying into `log`, and the events by type.
    static func generate(
        _ count: UInt64,
        seed: UInt64,
        into log: SQLiteEventStore
    ) async throws -> (simulated: Double, stored: Double, mix: [String: Int]) {
        let memory = InMemoryEventStore()
        let ledger = try await GovernanceSimulator.makeLedger(store: memory, clock: SteppingClock())
        // Policy changes as rare as in a real log (a few a year), not as often as the property tests want them.
        var simulator = GovernanceSimulator(seed: seed, policyChanges: 1)
        var size: UInt64 = 1
        var reported: UInt64 = 0
        var mix: [String: Int] = ["ledger.created": 1]
        let started = ContinuousClock.now
        while size < count {
            let appended = try await simulator.step(on: ledger)
            size += UInt64(appended.count)
            for signed in appended { mix[signed.event.type, default: 0] += 1 }
            if size - reported >= 100_000 {
                reported = size
                let seconds = (ContinuousClock.now - started).inSeconds
                Console.current.err("generated \(size)/\(count) events in \(Int(seconds)) s")
            }
        }
        let simulated = (ContinuousClock.now - started).inSeconds
        Console.current.err("simulated \(size) events in \(Int(simulated)) s; storing them")
        var copied: UInt64 = 0
        let stored = try await Bench.timeAsync {
            while copied < count {
                let entries = await memory.entries(in: copied..<min(copied + copyBatch, count))
                try await log.append(entries, expecting: copied)
                copied += UInt64(entries.count)
            }
        }
        Console.current.err("stored \(copied) events in SQLite in \(Int(stored)) s")
        return (simulated, stored, mix)
    }

    /// The baseline: reads `size` entries in chunks, a chunk ahead, and decodes each chunk, exactly as
    /// `ProjectionUpdater.fold` does, without folding. Returns the number of events decoded.
    static func readAndDecode(_ log: any EventStore, size: UInt64) async throws -> Int {
        func read(_ from: UInt64) -> Task<[LogEntry], any Error> {
            Task { try await log.entries(in: from..<min(from + chunkSize, size)) }
        }
        var next: Task<[LogEntry], any Error>? = size > 0 ? read(0) : nil
        var position: UInt64 = 0
        var decoded = 0
        while let pending = next {
            let entries = try await pending.value
            position += UInt64(entries.count)
            next = position < size && !entries.isEmpty ? read(position) : nil
            decoded += try ProjectionUpdater.decode(entries).count
        }
        return decoded
    }

    static func removeDatabase(at path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
