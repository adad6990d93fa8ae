import ArgumentParser
import Foundation
import LedgerCore
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the pipeline for a window: extract, dataset, drift, train, evaluate, register.",
        discussion: """
            One run per window: the run id is the model name and the window (access-anomaly/2026-03-02..2026-03-09), so triggering a window whose run completed does nothing and says so. Each step appends one event signed with the pipeline key and naming the run: data.extracted (the window plus the 14 days before it, which the features' history needs), dataset.built (one row per actor and hour of the window, the last holdoutPercent of it the holdout), drift.measured (against the training data of the model serving the target; skipped while nothing is deployed), model.trained, model.evaluated against that champion, and model.registered if the policy's gate passes. run.completed ends it.

            A transient failure (the store or the Audit DB unreachable, an external trainer that died) is retried with jittered exponential backoff, "pipeline": {"retry": …} in ledger.json; every failed attempt appends step.failed, and giving up appends run.failed. After a crash, `ledger run --resume RUN` or the next `ledger run` (which resumes unfinished runs first) finishes the run without repeating a completed step, against the champion recorded when it started. A run resumes only with the configuration and code version it started with; otherwise end it with --abandon and run the window again with --rerun. A window that has not ended yet cannot run. One run at a time: a second `ledger run` in the workspace refuses, or waits with --wait.

            The window defaults to the one the schedule ("pipeline": {"schedule": "0 3 * * 1", "windowDays": 7}) last fired for: on a Thursday, the week from the Monday before last to last Monday. The Audit DB (--source, a SQLite file or a PostgreSQL database) defaults to "pipeline": {"source": "sqlite:PATH"} in ledger.json. Exits 1 if the run failed.

            Example:
              ledger run --window 2026-03-02..2026-03-09 --source sqlite:audit.db
              ledger run --resume access-anomaly/2026-03-02..2026-03-09 --json
              ledger run --abandon access-anomaly/2026-03-02..2026-03-09
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp("The window to run: FROM..TO, dates or RFC 3339 UTC times.", valueName: "FROM..TO"),
        transform: RunWindow.argument
    )
    var window: RunWindow?

    @Option(
        help: ArgumentHelp(
            "The Audit DB, sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE (default: ledger.json's pipeline.source).",
            valueName: "SOURCE"
        )
    )
    var source: String?

    @Option(help: ArgumentHelp("Why the run starts: manual, schedule or drift.", valueName: "TRIGGER"))
    var trigger = "manual"

    @Option(help: ArgumentHelp("Finish this open run instead of starting one.", valueName: "RUN"))
    var resume: String?

    @Option(
        help: ArgumentHelp(
            "End this open run with run.failed (say why with --reason), so that --rerun can run its window again.",
            valueName: "RUN"
        )
    )
    var abandon: String?

    @Option(help: ArgumentHelp("Why the run is abandoned (with --abandon).", valueName: "TEXT"))
    var reason = "abandoned by the operator"

    @Flag(help: "Start a new run (…#2) for a window whose run failed.")
    var rerun = false

    @Option(
        help: ArgumentHelp("Seconds to wait for another run to finish; 0 refuses at once.", valueName: "SECONDS")
    )
    var wait = 0.0

    @OptionGroup var threading: ThreadsOption

    @Flag(help: "Print {\"runs\": [{\"run\",\"disposition\",\"status\",\"steps\",\"registered\",…}]} as JSON.")
    var json = false

    func validate() throws {
        if let source { _ = try AuditSourceOption.validate(source) }
        guard ["manual", "schedule", "drift"].contains(trigger) else {
            throw ValidationError("--trigger must be manual, schedule or drift")
        }
        if resume != nil || abandon != nil, window != nil || rerun {
            throw ValidationError("--resume and --abandon name a run that exists: they take no --window or --rerun")
        }
        if resume != nil, abandon != nil { throw ValidationError("pass --resume or --abandon, not both") }
        guard (1...4000).contains(reason.count) else { throw ValidationError("--reason must be 1 to 4000 characters") }
        guard wait >= 0, wait <= 86_400 else { throw ValidationError("--wait must be 0 to 86400 seconds") }
    }

    func run() async throws {
        let session = try await workspace.open()
        let console = Console.current
        let reporter = RunReporter(console: console)
        let action: RunAction
        if let abandon {
            action = .abandon(run: abandon, reason: reason)
        } else if let resume {
            action = .resume(run: resume)
        } else {
            action = .trigger(window: window, trigger: trigger, rerunFailed: rerun)
        }
        let outcomes = try await session.run(action, source: source, threads: threading.threads, waitSeconds: wait) {
            [json] notice in
            if !json { for line in reporter.lines(for: notice) { console.out(line) } }
        }
        if json {
            console.json([
                "runs": .array(outcomes.map(\.jsonValue))
            ])
        } else {
            for outcome in outcomes { Self.explain(outcome, console: console) }
        }
        if abandon == nil, let failed = outcomes.first(where: { [.failed, .alreadyFailed].contains($0.disposition) }) {
            let ended = try failed.history.ended?.decode(RunFailed.self)
            throw LedgerError(
                .runFailed,
                "run \(failed.history.run) failed at \(ended?.step ?? "?"): "
                    + "\(ended?.error.message ?? "unknown error"); fix the cause, then "
                    + "`ledger run --window \(failed.history.window) --rerun`"
            )
        }
    }

    /// The last lines for a run this call did not (or did not fully) run itself.
    static func explain(_ outcome: RunOutcome, console: Console) {
        let history = outcome.history
        switch outcome.disposition {
        case .alreadyCompleted:
            console.out(
                "run \(history.run) already completed at seq \(history.ended?.seq ?? 0)"
                    + (history.registered.map { ", registering \($0)" } ?? "") + ": nothing to do"
            )
        case .alreadyFailed:
            console.out("run \(history.run) already failed at seq \(history.ended?.seq ?? 0)")
        case .completed:
            if let registered = history.registered {
                console.out("next: ledger approve \(registered) --reason TEXT; then ledger deploy \(registered)")
            }
        case .failed, .interrupted:
            break
        }
    }
}
