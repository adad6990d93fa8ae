import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

struct DriftHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the drift history: per-feature PSI, KS and Wasserstein, and the verdict of each measurement.",
        discussion: """
            Each row is one drift.measured event: the pipeline compares the new window's dataset with the deployed model's training set. PSI below 0.1 is usually read as stable, 0.1 to 0.25 as moderate, and above 0.25 as significant; the thresholds in force are recorded in each event.

            Examples:
              ledger drift --last 5
              ledger drift --feature failed_logins_1h --json
            """
    )

    @Option(help: ArgumentHelp("Only this feature.", valueName: "F"))
    var feature: String?

    @Option(help: ArgumentHelp("Only the last N measurements.", valueName: "N"))
    var last: Int?

    @OptionGroup var options: QueryOptions

    func validate() throws {
        if let last, last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() async throws {
        let projections = try await options.projections()
        let records = projections.driftRecords(feature: feature, last: last)
        let console = Console.current
        if options.json { return console.json(projections.driftJSON(feature: feature, last: last)) }
        guard !records.isEmpty else {
            return console.out(
                feature.map { "no drift measured for feature \($0)" }
                    ?? "no drift measured yet; `ledger run` measures it"
            )
        }
        console.table(
            ["SEQ", "MEASURED", "VERDICT", "FEATURE", "PSI", "KS", "KS P", "WASSERSTEIN"],
            records.flatMap { record in
                var rows = record.features.map { name, statistics in
                    [
                        "\(record.measured.seq)", shortTime(record.measured.time), record.verdict, name,
                        number(statistics.psi), number(statistics.ks), number(statistics.ksPValue),
                        number(statistics.wasserstein),
                    ]
                }
                if feature == nil, let scores = record.scores {
                    rows.append([
                        "\(record.measured.seq)", shortTime(record.measured.time), record.verdict,
                        "(scores of \(record.scoresModel ?? "?"))", number(scores.psi), number(scores.ks),
                        number(scores.ksPValue), number(scores.wasserstein),
                    ])
                }
                return rows
            }
        )
    }
}
