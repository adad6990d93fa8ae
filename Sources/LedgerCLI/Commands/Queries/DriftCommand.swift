import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Measure drift, or show the drift history (the default).",
        discussion: """
            Examples:
              ledger drift --last 5
              ledger drift measure --dataset sha256:4be1...
            """,
        subcommands: [DriftHistoryCommand.self, DriftMeasureCommand.self, DriftCheckCommand.self],
        defaultSubcommand: DriftHistoryCommand.self
    )
}
