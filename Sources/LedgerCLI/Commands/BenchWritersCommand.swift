import ArgumentParser
import LedgerBench

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
        let result = try await WritersBenchmark.run(
            store: store,
            processes: processes,
            events: events,
            baseline: !noBaseline
        )
        Bench.print(result, json: json)
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
        try await WritersBenchmark.write(store: store, keyPath: key, writer: writer, events: events)
    }
}
