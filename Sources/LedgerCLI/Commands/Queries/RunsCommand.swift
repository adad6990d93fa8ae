import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List pipeline runs, or show one run's steps, attempts and durations.",
        discussion: """
            A run starts with run.started and ends with run.completed or run.failed. Its steps (extract, dataset, drift, train, evaluate, register) are the events that name the run; step.failed records each failed attempt. A step's duration runs from the run's previous event to the step's own.

            Examples:
              ledger runs
              ledger runs access-anomaly/2026-03-02 --json
            """
    )

    @Argument(help: ArgumentHelp("One run's id.", valueName: "RUN"))
    var run: String?

    @OptionGroup var options: QueryOptions

    func run() async throws {
        let projections = try await options.projections()
        let console = Console.current
        if let run {
            guard let record = projections.runs[run] else {
                throw LedgerError(.invalidArgument, "no run \(run) in the log")
            }
            if options.json { return console.json(record.jsonValue) }
            console.out(
                "\(record.run)  \(record.status.rawValue)  trigger \(record.trigger)  window \(record.windowFrom.rfc3339)..\(record.windowTo.rfc3339)"
            )
            console.out("started seq \(record.started.seq) \(shortTime(record.started.time)), \(record.durationMs) ms")
            console.table(
                ["STEP", "STATUS", "ATTEMPTS", "SEQ", "MS", "LAST ERROR"],
                record.steps.map { step in
                    [
                        step.name, step.status.rawValue, "\(step.attempts)", step.seq.map { "\($0)" } ?? "-",
                        "\(step.durationMs)", step.error?["message"]?.stringValue ?? "",
                    ]
                }
            )
            return
        }
        if options.json { return console.json(projections.runsJSON()) }
        let records = projections.runs.values.sorted { $0.started.seq < $1.started.seq }
        guard !records.isEmpty else { return console.out("no pipeline runs yet") }
        console.table(
            ["RUN", "TRIGGER", "STATUS", "STEPS", "STARTED", "MS"],
            records.map { record in
                [
                    record.run, record.trigger, record.status.rawValue,
                    "\(record.steps.filter { $0.status == .completed }.count)/\(record.steps.count)",
                    shortTime(record.started.time), "\(record.durationMs)",
                ]
            }
        )
    }
}
