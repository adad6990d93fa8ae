import ArgumentParser
import Foundation
import LedgerCore
import LedgerPostgres
import LedgerPostgresConnection
import LedgerStore
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
        guard case .sqlite = try workspace.logLocation else {
            throw LedgerError(.invalidArgument, "the workspace's log is already in PostgreSQL (\(workspace.logURL))")
        }
        // The head record first, as `verify` reads it: a log that lost its tail is not copied anywhere.
        let record = try workspace.headRecord.load()
        let source = try await workspace.openStore()
        let size = try await source.size()
        let leaves = try await source.leaves(upTo: size)
        let before = Verifier(
            trustedGenesis: workspace.genesis,
            checkpoints: try await source.checkpoints().map(\.note),
            heads: record.map {
                [KnownHead(size: $0.size, root: $0.root, source: "the head record \(Workspace.headRecordName)")]
            } ?? []
        ).verify(leaves: leaves)
        if let failure = before.failure { throw VerificationFailed(failure: failure) }

        let target = try await PostgresEventStore.open(to, create: true)
        var copied = try await target.size()
        if copied > 0 {
            // Resuming is safe only onto a prefix of this very log.
            let common = min(copied, size)
            guard copied <= size,
                try await target.leafHashes(upTo: common) == (try await source.leafHashes(upTo: common))
            else {
                throw LedgerError(
                    .invalidArgument,
                    "\(target.location) already holds a different log; choose another schema"
                )
            }
            console.err("resuming: the target already holds the first \(copied) entries of this log")
        }
        let reporter = ProgressReporter(console: console)
        let alreadyThere = copied
        while copied < size {
            let batch = try await source.entries(in: copied..<min(size, copied + 1000))
            try await target.append(batch, expecting: copied)
            copied += UInt64(batch.count)
            reporter.report(copied, of: size)
        }
        let kept = Set(try await target.checkpoints().map(\.size))
        var checkpoints = 0
        for checkpoint in try await source.checkpoints() where !kept.contains(checkpoint.size) {
            try await target.keepCheckpoint(checkpoint.note, size: checkpoint.size)
            checkpoints += 1
        }

        // Root for root: the copy is read back from the database and verified on its own.
        let copy = try await target.leaves(upTo: try await target.size())
        let after = Verifier(trustedGenesis: workspace.genesis).verify(leaves: copy)
        if let failure = after.failure { throw VerificationFailed(failure: failure) }
        guard after.entries == before.entries, after.root == before.root, after.genesis == before.genesis else {
            throw LedgerError(
                .storage,
                "the copy differs: \(after.entries) entries with root \(after.root.hex), expected \(before.entries) with \(before.root.hex)"
            )
        }
        var switched = false
        if `switch` {
            var config = workspace.configJSON.objectValue ?? [:]
            config["log"] = .string(to)
            try Files.writeAtomically(
                try CanonicalJSON.encode(.object(config)) + [0x0a],
                to: workspace.root.appendingPathComponent(Workspace.configName).path
            )
            switched = true
        }
        if json {
            console.json([
                "entries": .int(size), "copied": .int(copied - alreadyThere), "checkpoints": .int(checkpoints),
                "root": .string(after.root.hex), "target": .string(target.location.description),
                "switched": .bool(switched),
            ])
            return
        }
        console.out(
            "copied \(copied - alreadyThere) of \(size) entries and \(checkpoints) checkpoints to \(target.location)"
        )
        console.out("verified: both logs have \(size) entries and root \(after.root.hex)")
        if switched {
            console.out("ledger.json now uses \(target.location); the old log is unchanged")
        } else {
            console.out("ledger.json still uses \(workspace.logURL); run again with --switch to use the new log")
        }
    }
}
