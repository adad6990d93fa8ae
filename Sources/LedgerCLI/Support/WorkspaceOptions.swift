import ArgumentParser
import LedgerCore
import LedgerWorkspace

/// `--workspace DIR`, shared by every command that works in a workspace.
struct WorkspaceOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The workspace folder (default: the current folder or its nearest parent with ledger.json).",
            valueName: "DIR"
        )
    )
    var workspace: String?

    func locate() throws(LedgerError) -> Workspace { try Workspace.locate(workspace) }
}

extension WorkspaceOptions {
    /// Finds the workspace and opens it once for this command, with warnings printed to standard error.
    func open(readingOnly: Bool = false) async throws(LedgerError) -> WorkspaceSession {
        let console = Console.current
        return try await WorkspaceSession.open(try locate(), readingOnly: readingOnly) { warning in
            console.err("warning: \(warning)")
        }
    }
}
