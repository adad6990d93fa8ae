import Foundation
public import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerSimulation
public import LedgerStore

/// `ledger bench projections`: projection rebuilds per second against merely reading and decoding the same events.
public enum ProjectionsBenchmark {
    /// Entries per read, as the rebuild reads them (`ProjectionUpdater.chunkSize`).
    static let chunkSize: UInt64 = 4096
    /// Entries per transaction when copying the generated log into SQLite.
    static let copyBatch: UInt64 = 20_000
    /// The ratio rebuild / baseline the rebuild must reach.
    public static let target = 0.5

    /// Generates a random valid governance history of `events` events (seeded by `seed`), copies it into a SQLite
    /// log in a temporary folder, then alternates `runs` times the baseline (read and decode every entry) and a
    /// rebuild of every projection into a fresh read-table file.
    ///
    /// - Returns: `{"benchmark": "projections", "events", "runs", "seed", "generationSeconds", "storeSeconds",
    ///   "readDecodePerSecond", "rebuildPerSecond", "rows", "mix", "ratio", "target", "meetsTarget"}`.
    /// - Throws: `LedgerError` if a database cannot be made, or `storage` if a pass reads fewer entries than the log
    ///   holds.
    public static func run(
        events: Int,
        runs: Int,
        seed: Int,
        progress: (String) -> Void
    ) async throws -> JSONValue {
        let folder = try BenchFolder()
        defer { folder.remove() }
        let log = try SQLiteEventStore(path: folder.path("ledger.db"), create: true)
        let generation = try await generate(UInt64(events), seed: UInt64(seed), into: log, progress: progress)
        let size = try await log.size()

        let tablesPath = folder.path("ledger.projections.db")
        var readRates: [Double] = []
        var rebuildRates: [Double] = []
        var projections = Projections()
        for run in 0..<runs {
            var decoded = 0
            let readSeconds = try await Bench.timeAsync { decoded = try await readAndDecode(log, size: size) }
            guard UInt64(decoded) == size else {
                throw LedgerError(.storage, "the baseline decoded \(decoded) of \(size) entries")
            }
            readRates.append(Double(decoded) / readSeconds)

            removeDatabase(at: tablesPath)
            let tables = try SQLiteProjectionStore(path: tablesPath)
            let rebuildSeconds = try await Bench.timeAsync {
                projections = try await ProjectionUpdater.rebuild(log: log, into: tables)
            }
            guard projections.nextSeq == size else {
                throw LedgerError(.storage, "the rebuild folded \(projections.nextSeq) of \(size) entries")
            }
            rebuildRates.append(Double(size) / rebuildSeconds)
            progress(
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
        return [
            "benchmark": "projections", "events": .int(Int(size)), "runs": .int(runs), "seed": .int(seed),
            "generationSeconds": .number(Bench.round3(generation.simulated + generation.stored)),
            "storeSeconds": .number(Bench.round3(generation.stored)),
            "readDecodePerSecond": .number(Bench.median(readRates).rounded()),
            "rebuildPerSecond": .number(Bench.median(rebuildRates).rounded()), "rows": rows,
            "mix": .object(generation.mix.mapValues { .int($0) }),
            "ratio": .number(Bench.round3(Bench.median(ratios))), "target": .number(target),
            "meetsTarget": .bool(Bench.median(ratios) >= target),
        ]
    }

    /// Simulates `count` events in memory (no fsync per append), then copies them into `log` in large transactions.
    ///
    /// - Returns: the seconds spent simulating, the seconds spent copying into `log`, and the events by type.
    static func generate(
        _ count: UInt64,
        seed: UInt64,
        into log: SQLiteEventStore,
        progress: (String) -> Void
    ) async throws -> (simulated: Double, stored: Double, mix: [String: Int]) {
        let memory = InMemoryEventStore()
        let ledger = try await GovernanceSimulator.makeLedger(store: memory, clock: SteppingClock())
        // Policy changes as rare as in a real log (a few a year), not as often as the property tests want them.
        var simulator = GovernanceSimulator(seed: seed, policyChanges: 1)
        var size: UInt64 = 1
        var reported: UInt64 = 0
        var mix: [String: Int] = [EventType.ledgerCreated.rawValue: 1]
        let started = ContinuousClock.now
        while size < count {
            let appended = try await simulator.step(on: ledger)
            size += UInt64(appended.count)
            for signed in appended { mix[signed.event.type, default: 0] += 1 }
            if size - reported >= 100_000 {
                reported = size
                let seconds = (ContinuousClock.now - started).inSeconds
                progress("generated \(size)/\(count) events in \(Int(seconds)) s")
            }
        }
        let simulated = (ContinuousClock.now - started).inSeconds
        progress("simulated \(size) events in \(Int(simulated)) s; storing them")
        var copied: UInt64 = 0
        let stored = try await Bench.timeAsync {
            while copied < count {
                let entries = await memory.entries(in: copied..<min(copied + copyBatch, count))
                try await log.append(entries, expecting: copied)
                copied += UInt64(entries.count)
            }
        }
        progress("stored \(copied) events in SQLite in \(Int(stored)) s")
        return (simulated, stored, mix)
    }

    /// The baseline: reads `size` entries in chunks, a chunk ahead, and decodes each chunk, exactly as
    /// `ProjectionUpdater.fold` does, without folding.
    ///
    /// - Returns: the number of events decoded.
    /// - Throws: what the store or the decoder throws.
    public static func readAndDecode(_ log: any EventStore, size: UInt64) async throws -> Int {
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
