import ArgumentParser
import LedgerBench
import LedgerCore

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
        let result = try await LogBenchmarks.append(
            events: options.events,
            runs: options.runs,
            batch: batch,
            single: single
        ) { Console.current.err($0) }
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
        let result = try await LogBenchmarks.verify(events: options.events, runs: options.runs, threads: threads) {
            Console.current.err($0)
        }
        Bench.print(result, json: options.json)
    }
}

/// The CLI's side of the benchmarks in LedgerBench: printing their results.
enum Bench {
    /// `value` rounded to three decimals (``LedgerBench/Bench/round3(_:)``).
    static func round3(_ value: Double) -> Double { LedgerBench.Bench.round3(value) }

    /// Prints a benchmark's result: the JSON object with `json`, else one sorted `key: value` line per member.
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
