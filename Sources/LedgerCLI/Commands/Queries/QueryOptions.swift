import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerWorkspace

/// The options every projection query shares.
struct QueryOptions: ParsableArguments {
    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print stable JSON instead of a table.")
    var json = false

    /// The projections, caught up with the log.
    func projections() async throws -> Projections {
        try await workspace.open().projections()
    }
}

/// `2026-03-03T10:15:00.000Z` → `2026-03-03 10:15:00`.
func shortTime(_ time: Timestamp) -> String {
    String(time.rfc3339.prefix(19).map { $0 == "T" ? " " : $0 })
}

func number(_ value: Double?) -> String { value.map { Gate.format($0) } ?? "-" }
