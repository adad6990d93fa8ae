import ArgumentParser
import LedgerBench

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

    func validate() throws {
        guard events >= 1, events <= 10_000_000 else { throw ValidationError("--events must be 1 to 10,000,000") }
        guard runs >= 1, runs <= 25 else { throw ValidationError("--runs must be 1 to 25") }
        guard seed >= 0 else { throw ValidationError("--seed must be at least 0") }
    }

    func run() async throws {
        let result = try await ProjectionsBenchmark.run(events: events, runs: runs, seed: seed) {
            Console.current.err($0)
        }
        Bench.print(result, json: json)
    }
}
