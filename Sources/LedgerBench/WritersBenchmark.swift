import Foundation
public import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerSQLite
import LedgerStore
import LedgerWorkspace

/// `ledger bench writers`: many processes appending to one log at once, each event its own transaction.
public enum WritersBenchmark {
    /// Creates the log at `store` (`postgres://…?schema=NAME` or `sqlite:PATH`; default a temporary SQLite file),
    /// runs `processes` writers of `events` notes each, checks the result, and, for a named store unless `baseline`
    /// is false, makes the same run on a local SQLite file.
    ///
    /// The writers are this very executable, started as `bench writer --store URL --key FILE --writer I --events N`:
    /// the caller's command tree MUST route those arguments to ``write(store:keyPath:writer:events:)``.
    ///
    /// - Returns: `{"processes", "eventsPerProcess", "store", "events", "seconds", "eventsPerSecond", "verified",
    ///   "entries", "root"}`, plus `"baselineSqliteEventsPerSecond"` and `"ratioToSqlite"` with a baseline.
    /// - Throws: `LedgerError` (`invalidArgument` if the store already holds a log, `storage` if a writer failed or
    ///   events are missing or repeated), or ``VerificationFailed`` if the written log does not verify.
    public static func run(store: String?, processes: Int, events: Int, baseline: Bool) async throws -> JSONValue {
        let folder = try BenchFolder()
        defer { folder.remove() }
        var result: [String: JSONValue] = ["processes": .int(processes), "eventsPerProcess": .int(events)]
        let target = store ?? "sqlite:\(folder.path("target.db"))"
        let measured = try await measure(target, processes: processes, events: events, folder: folder)
        result["store"] = .string(target.hasPrefix("sqlite:") ? "sqlite" : "postgres")
        for (key, value) in measured { result[key] = value }
        if baseline && store != nil {
            let baseline = try await measure(
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
        return .object(result)
    }

    /// One writer: appends `events` notes `"w<writer> <index>"` to the log at `store`, one per transaction, signed by
    /// the key in `keyPath`.
    ///
    /// - Throws: `LedgerError` if the log cannot be opened or an append fails.
    public static func write(store: String, keyPath: String, writer: Int, events: Int) async throws {
        let signer = try KeyFiles.loadPrivateKey(keyPath)
        let ledger = try await Ledger.open(store: try await openStore(store, create: false), clock: SystemClock())
        for index in 0..<events {
            try await ledger.append(
                [try EventDraft(NoteAdded(text: "w\(writer) \(index)"))],
                signedBy: signer
            )
        }
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
        let store = try await openStore(url, create: true)
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
            let text = try SignedEvent(leaf: entry.leaf).event.decode(NoteAdded.self).text
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

    static func openStore(_ url: String, create: Bool) async throws -> any EventStore {
        if url.hasPrefix("sqlite:") { return try SQLiteEventStore(path: String(url.dropFirst(7)), create: create) }
        return try await PostgresEventStore.open(url, create: create)
    }
}
