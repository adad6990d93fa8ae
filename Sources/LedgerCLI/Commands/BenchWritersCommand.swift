import ArgumentParser
import Foundation
import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

/// `ledger bench writers`: many processes appending to one log at once, each event its own transaction.
struct BenchWritersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writers",
        abstract: "Several processes append to one log at once: throughput, and proof of no gap, fork, loss or repeat.",
        discussion: """
            Creates a log at --store (a fresh PostgreSQL schema, or a SQLite file), then starts --processes copies of this program, each appending --events notes one event per transaction through the normal append path (optimistic concurrency: a writer that loses a race catches up and tries again). Afterwards it reads the log back and checks: seqs 0..n-1 with no gap, the chain and signatures verify (no fork), and each writer's notes are all there exactly once. The same run is then made on a SQLite file on this machine, as the baseline, unless --no-baseline.

            Example:
              PGPASSWORD=… ledger bench writers --store 'postgres://ledger@127.0.0.1/ledger?schema=bench' --processes 8 --events 2000 --json
            """
    )

    @Option(
        help: ArgumentHelp(
            "The log to create and write: postgres://…?schema=NAME (the schema must not hold a log yet) or sqlite:PATH (default: a temporary SQLite file).",
            valueName: "URL"
        )
    )
    var store: String?

    @Option(help: ArgumentHelp("Writer processes.", valueName: "P"))
    var processes = 8

    @Option(help: ArgumentHelp("Events each process appends.", valueName: "N"))
    var events = 2000

    @Flag(help: "Skip the SQLite baseline.")
    var noBaseline = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard (1...64).contains(processes) else { throw ValidationError("--processes must be 1 to 64") }
        guard (1...1_000_000).contains(events) else { throw ValidationError("--events must be 1 to 1,000,000") }
    }

    func run() async throws {
        let folder = try BenchFolder()
        defer { folder.remove() }
        var result: [String: JSONValue] = ["processes": .int(processes), "eventsPerProcess": .int(events)]
        let target = store ?? "sqlite:\(folder.path("target.db"))"
        let measured = try await Self.measure(target, processes: processes, events: events, folder: folder)
        result["store"] = .string(target.hasPrefix("sqlite:") ? "sqlite" : "postgres")
        for (key, value) in measured { result[key] = value }
        if !noBaseline && store != nil {
            let baseline = try await Self.measure(
                "sqlite:\(folder.path("baseline.db"))",
                processes: processes,
                events: events,
                folder: folder
            )
            result["baselineSqliteEventsPerSecond"] = baseline["eventsPerSecond"]
            if let ours = measured["eventsPerSecond"]?.doubleValue,
                let theirs = baseline["eventsPerSecond"]?.doubleValue, theirs > 0
            {
                result["ratioToSqlite"] = .number(Bench.round3(ours / theirs))
            }
        }
        Bench.print(.object(result), json: json)
    }

    /// Creates the log, runs the writers, checks the result and returns the figures.
    static func measure(
        _ url: String,
        processes: Int,
        events: Int,
        folder: BenchFolder
    ) async throws -> [String: JSONValue] {
        let key = SigningKey()
        let keyPath = folder.path("writer-\(UUID().uuidString).key")
        try KeyFiles.write(key, to: keyPath)
        let store = try await openBenchStore(url, create: true)
        guard try await store.size() == 0 else {
            throw LedgerError(
                .invalidArgument,
                "\(PostgresLocation.redacted(url)) already holds a log; name a new schema"
            )
        }
        _ = try await Ledger.create(
            store: store,
            clock: SystemClock(),
            logID: "bench.local/writers",
            keys: [KeyRecord(publicKey: key.publicKey, name: "bench", roles: Set(Role.allCases))],
            signedBy: key
        )
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let started = ContinuousClock.now
        let children = try (0..<processes).map { index in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "bench", "writer", "--store", url, "--key", keyPath, "--writer", String(index), "--events",
                String(events),
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for child in children { child.waitUntilExit() }
        let seconds = (ContinuousClock.now - started).inSeconds
        let failed = children.filter { $0.terminationReason != .exit || $0.terminationStatus != 0 }
        guard failed.isEmpty else {
            throw LedgerError(.storage, "\(failed.count) of \(processes) writers failed; see their errors above")
        }

        // The checks: no gap, no fork, every writer's events exactly once.
        let entries = try await store.allEntries()
        let expected = 1 + processes * events
        guard entries.count == expected, entries.enumerated().allSatisfy({ UInt64($0.offset) == $0.element.seq })
        else {
            throw LedgerError(.storage, "expected seqs 0..<\(expected), found \(entries.count) entries")
        }
        let report = Verifier().verify(leaves: entries.map(\.leaf))
        if let failure = report.failure { throw VerificationFailed(failure: failure) }
        var perWriter: [String: Set<String>] = [:]
        var repeats = 0
        for entry in entries.dropFirst() {
            let text = try SignedEvent(leaf: entry.leaf).event.data["text"]?.stringValue ?? ""
            let writer = String(text.split(separator: " ").first ?? "")
            if !perWriter[writer, default: []].insert(text).inserted { repeats += 1 }
        }
        guard repeats == 0, perWriter.count == processes, perWriter.values.allSatisfy({ $0.count == events }) else {
            throw LedgerError(.storage, "writers' events are missing or repeated (\(repeats) repeats)")
        }
        return [
            "events": .int(processes * events), "seconds": .number(Bench.round3(seconds)),
            "eventsPerSecond": .number((Double(processes * events) / seconds).rounded()),
            "verified": .bool(true), "entries": .int(entries.count), "root": .string(report.root.hex),
        ]
    }

    static func openBenchStore(_ url: String, create: Bool) async throws -> any EventStore {
        if url.hasPrefix("sqlite:") { return try SQLiteEventStore(path: String(url.dropFirst(7)), create: create) }
        return try await PostgresEventStore.open(url, create: create)
    }
}

/// One writer process of `ledger bench writers` (not for direct use).
struct BenchWriterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writer",
        abstract: "One writer of `ledger bench writers`, which starts it.",
        discussion: """
            Example (as `ledger bench writers` runs it):
              ledger bench writer --store sqlite:/tmp/log.db --key /tmp/bench.key --writer 3 --events 2000
            """,
        shouldDisplay: false
    )

    @Option var store: String
    @Option var key: String
    @Option var writer: Int
    @Option var events: Int

    func run() async throws {
        let signer = try KeyFiles.loadPrivateKey(key)
        let ledger = try await Ledger.open(
            store: try await BenchWritersCommand.openBenchStore(store, create: false),
            clock: SystemClock()
        )
        for index in 0..<events {
            try await ledger.append(
                [EventDraft(type: "note.added", data: ["text": .string("w\(writer) \(index)")])],
                signedBy: signer
            )
        }
    }
}
