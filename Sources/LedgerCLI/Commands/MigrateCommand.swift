import ArgumentParser
import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerWorkspace

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the workspace's log into PostgreSQL, entry for entry, and prove the copy has the same root.",
        discussion: """
            Verifies the workspace's log against its trust anchor, copies every entry (the signed envelopes, byte for byte: nothing is re-signed) and every kept checkpoint into the PostgreSQL log at --to, then verifies the copy from the database and compares: same size, same RFC 9162 root, same genesis. The password comes from PGPASSWORD.

            Stop writers to the old log first. An interrupted migration is resumed by running it again: a target that already holds a prefix of this log is continued; one that holds anything else is refused. With --switch, ledger.json is rewritten (atomically) to use the new log once the roots match; the old file is left as it was.

            Example:
              PGPASSWORD=… ledger migrate --to 'postgres://ledger@db.example.org/ledger?schema=fraud' --switch
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(help: ArgumentHelp("The PostgreSQL log to copy into (created if missing).", valueName: "URL"))
    var to: String

    @Flag(help: "Point ledger.json at the new log once the copy verifies.")
    var `switch` = false

    @Flag(help: "Print {\"entries\",\"copied\",\"checkpoints\",\"root\",\"target\",\"switched\"} as JSON.")
    var json = false

    func validate() throws {
        _ = try PostgresLocation(to, environment: [:])
        if `switch`, PostgresLocation.holdsPassword(to) {
            throw ValidationError("--to: with --switch, \(Workspace.noPasswordInConfig)")
        }
    }

    func run() async throws {
        let workspace = try workspace.locate()
        let console = Console.current
        let reporter = ProgressReporter(console: console)
        let migration = try await workspace.migrateLog(to: to, switch: `switch`) {
            console.err($0)
        } progress: {
            reporter.report($0, of: $1)
        }
        if json {
            console.json([
                "entries": .int(migration.entries), "copied": .int(migration.copied),
                "checkpoints": .int(migration.checkpoints), "root": .string(migration.root.hex),
                "target": .string(migration.target), "switched": .bool(migration.switched),
            ])
            return
        }
        console.out(
            "copied \(migration.copied) of \(migration.entries) entries and \(migration.checkpoints) checkpoints to \(migration.target)"
        )
        console.out("verified: both logs have \(migration.entries) entries and root \(migration.root.hex)")
        if migration.switched {
            console.out("ledger.json now uses \(migration.target); the old log is unchanged")
        } else {
            console.out("ledger.json still uses \(workspace.logURL); run again with --switch to use the new log")
        }
    }
}
