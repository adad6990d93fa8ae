import ArgumentParser
import Foundation
import LedgerCore
import LedgerProjections
import LedgerSQLite
import LedgerWorkspace

struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Rebuild or check the read tables (registry, deployments, runs, lineage, drift).",
        discussion: """
            The read tables are a cache of the log, kept beside it (ledger.projections.db) and updated after every append. Each records the last seq it applied. They can be deleted or rebuilt at any time without losing anything; an edit made to them directly is caught by `check` and undone by `rebuild`.

            Examples:
              ledger projections rebuild
              ledger projections check --json
            """,
        subcommands: [ProjectionsRebuildCommand.self, ProjectionsCheckCommand.self]
    )
}

struct ProjectionsRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Fold the whole log from scratch and replace every row of the read tables.",
        discussion: """
            Prints progress on standard error for large logs. The events are folded as stored; run `ledger verify` to prove they are the signed, unaltered log.

            Example:
              ledger projections rebuild --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print {\"events\",\"seconds\",\"eventsPerSecond\",\"rows\"} as JSON.")
    var json = false

    func run() async throws {
        let workspace = try workspace.locate()
        let console = Console.current
        let started = ContinuousClock.now
        let reporter = ProgressReporter(console: console)
        let log = try await workspace.openStore()
        let projections = try await ProjectionUpdater.rebuild(
            log: log,
            into: try await workspace.openProjections(beside: log),
            progress: { done, total in reporter.report(done, of: total) }
        )
        let seconds = (ContinuousClock.now - started).inSeconds
        let events = projections.nextSeq
        let rows: [String: JSONValue] = [
            "registry": .int(projections.registry.count),
            "deployments": .int(projections.deployments.values.reduce(0) { $0 + $1.count }),
            "runs": .int(projections.runs.count), "lineage": .int(projections.lineage.count),
            "drift": .int(projections.drift.count),
        ]
        let rate = seconds > 0 ? Double(events) / seconds : 0
        if json {
            return console.json([
                "events": .int(events), "seconds": .number(seconds), "eventsPerSecond": .number(rate.rounded()),
                "rows": .object(rows),
            ])
        }
        console.out(
            "rebuilt the projections from \(events) events in \(String(format: "%.2f", seconds)) s "
                + "(\(Int(rate)) events/s): \(rows.sorted { $0.key < $1.key }.map { "\($0.value.displayText) \($0.key)" }.joined(separator: ", "))"
        )
    }
}

/// Progress on standard error, at most every half second and only for a run long enough to need it.
final class ProgressReporter: @unchecked Sendable {
    private let console: Console
    private let lock = NSLock()
    private var last = ContinuousClock.now

    init(console: Console) { self.console = console }

    func report(_ done: UInt64, of total: UInt64) {
        let now = ContinuousClock.now
        let due = lock.withLock {
            guard now - last >= .milliseconds(500) || (done == total && total >= 100_000) else { return false }
            last = now
            return true
        }
        if due { console.err("  \(done) of \(total) events (\(done * 100 / max(total, 1))%)") }
    }
}

struct ProjectionsCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare the read tables with a fresh fold of the log; exit 3 if any row differs.",
        discussion: """
            Folds the log from scratch up to the seq the tables last applied and compares every row. A row that was edited, added or deleted in the database directly is reported. The tables are not changed: `ledger projections rebuild` repairs them.

            Example:
              ledger projections check
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Flag(help: "Print {\"ok\",\"head\",\"differences\"} as JSON.")
    var json = false

    func run() async throws {
        let workspace = try workspace.locate()
        let console = Console.current
        let log = try await workspace.openStore()
        guard let stored = try await workspace.openProjections(beside: log).load() else {
            let reason = "no projections are saved yet; any query or `ledger projections rebuild` makes them"
            if json { return console.json(["ok": true, "head": .null, "differences": [], "note": .string(reason)]) }
            return console.out(reason)
        }
        let fresh = try await ProjectionUpdater.fold(log, upTo: stored.nextSeq)
        let differences = stored.differences(from: fresh)
        if json {
            console.json([
                "ok": .bool(differences.isEmpty), "head": .int(stored.nextSeq - 1),
                "differences": .array(differences.map(JSONValue.string)),
            ])
        } else if differences.isEmpty {
            console.out("the read tables match the log up to seq \(stored.nextSeq - 1)")
        } else {
            for difference in differences.prefix(20) { console.out("differs: \(difference)") }
            if differences.count > 20 { console.out("… and \(differences.count - 20) more") }
        }
        guard differences.isEmpty else {
            throw VerificationFailed(
                failure: VerificationFailure(
                    seq: nil,
                    code: .storage,
                    reason: "\(differences.count) projection rows differ from the log; run `ledger projections rebuild`"
                )
            )
        }
    }
}
