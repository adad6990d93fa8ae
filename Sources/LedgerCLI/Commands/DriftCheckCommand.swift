import ArgumentParser
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerML
import LedgerPipeline
import LedgerStore
import LedgerWorkspace

struct DriftCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Measure drift on recent data between scheduled runs; start a drift-triggered run if it crosses the trigger.",
        discussion: """
            Extracts the window (default: the last pipeline.windowDays days up to the current whole UTC hour) from the Audit DB into memory, builds its features, and compares them and the champion's anomaly scores with the training data of the model serving the target, as `ledger drift measure` does. Nothing is stored or appended for the check itself.

            If the verdict reaches pipeline.driftTrigger ("significant" by default; "moderate" also possible), it starts `ledger run` for that window with trigger drift, which records drift.measured, retrains, evaluates and registers as usual. It does not start one if a drift-triggered run since the serving model was deployed is still open or registered a model (which then awaits approval and deployment); failed drift runs and drift runs whose model lost the gate do not hold it back. --dry-run only reports.

            Exit status: 0 whether or not drift was found; 1 on an error or a failed run. Use --json to read the verdict.

            Example:
              ledger drift check --source sqlite:audit.db
              ledger drift check --window 2026-03-02..2026-03-09 --dry-run --json
            """
    )

    @OptionGroup var workspace: WorkspaceOptions

    @Option(
        help: ArgumentHelp("The window to check (default: the last pipeline.windowDays days).", valueName: "FROM..TO"),
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

    @Flag(help: "Report the drift, but start no run.")
    var dryRun = false

    @OptionGroup var threading: ThreadsOption

    @Flag(help: "Print {\"verdict\",\"features\",\"scores\",\"triggered\",\"run\"} as JSON.")
    var json = false

    func validate() throws {
        if let source { _ = try AuditSourceOption.validate(source) }
    }

    func run() async throws {
        let session = try await workspace.open()
        let workspace = session.workspace
        let console = Console.current
        let clock = SystemClock()
        let window = try self.window ?? Self.recentWindow(workspace, now: clock.now())
        let runner = try await session.pipelineRunner(source: source, threads: threading.threads) { [json] notice in
            if !json { for line in RunReporter(console: console).lines(for: notice) { console.out(line) } }
        }
        // The lock first, so that what the check reads about earlier drift runs stays true until it acts.
        let lock =
            dryRun ? nil : try await session.acquireRunLock(purpose: "ledger drift check")
        defer { lock?.release() }
        let ledger = runner.steps.ledger
        try await ledger.catchUp()
        let models = await ledger.state.models
        guard let serving = models.targets[workspace.model.target]?.current,
            let champion = models.version(serving.name, serving.version)
        else {
            throw LedgerError(
                .invalidArgument,
                "nothing serves \(workspace.model.target), so there is no reference to measure drift against"
            )
        }
        let data = try await runner.trainingRows(of: window)
        let comparison = try await runner.steps.compareDrift(
            current: data.train,
            featureNames: data.featureNames,
            against: champion,
            thresholds: workspace.model.drift
        )
        let crossed =
            DriftComparison.rank(comparison.verdict) >= DriftComparison.rank(workspace.pipeline.driftTrigger)
        let earlier = crossed ? try await Self.driftRun(since: serving.seq, runner: runner) : nil
        var outcome: RunOutcome?
        if crossed, !dryRun, earlier == nil {
            outcome = try await runner.trigger(window, by: "drift")
        }
        let extra: [String: JSONValue] = [
            "window": .string(window.description), "trigger": .string(workspace.pipeline.driftTrigger),
            "triggered": .bool(outcome != nil),
            "run": outcome.map { .string($0.history.run) } ?? earlier.map(JSONValue.string) ?? .null,
            "disposition": outcome.map { .string($0.disposition.rawValue) } ?? .null,
        ]
        if !json { console.out("window \(window):") }
        DriftReport(comparison: comparison).show(json: json, extra: extra)
        if !json {
            if !crossed {
                console.out("below the trigger (\(workspace.pipeline.driftTrigger)): no run")
            } else if let earlier {
                console.out(
                    "at or above the trigger, but the drift run \(earlier) since \(serving.name)@\(serving.version) was deployed is still open or registered a model: finish it, or approve and deploy its model"
                )
            } else if dryRun {
                console.out("at or above the trigger (\(workspace.pipeline.driftTrigger)): --dry-run, so no run")
            } else if let outcome {
                RunCommand.explain(outcome, console: console)
            }
        }
        if let outcome, [.failed, .alreadyFailed].contains(outcome.disposition) {
            throw LedgerError(
                .runFailed,
                "the drift run \(outcome.history.run) failed; see `ledger runs \(outcome.history.run)`"
            )
        }
    }

    /// The last `windowDays` days up to the whole UTC hour at or before `now`.
    static func recentWindow(_ workspace: Workspace, now: Timestamp) throws(LedgerError) -> RunWindow {
        try RunWindow.ending(before: now, alignedTo: 3_600_000, days: workspace.pipeline.windowDays)
    }

    /// A drift-triggered run of the pipeline, started after seq `deployed`, that is still open or registered a
    /// model: retraining for this drift already happened or is under way. Failed runs, and runs whose model lost
    /// the gate, do not count.
    static func driftRun(since deployed: UInt64, runner: PipelineRunner) async throws -> String? {
        let ledger = runner.steps.ledger
        let size = try await ledger.store.size()
        for entry in try await ledger.store.entries(in: deployed..<size).reversed() {
            // The type from the signed bytes, never from the store's index column.
            let event = try SignedEvent(leaf: entry.leaf).event
            guard event.is(.runStarted) else { continue }
            let started = try event.decode(RunStarted.self)
            let run = started.run
            guard started.trigger == .drift, run.hasPrefix("\(runner.settings.pipeline)/") else { continue }
            let history = try await RunHistory(run: run, ledger: ledger)
            if history.status == nil || history.registered != nil { return run }
        }
        return nil
    }
}
