public import LedgerCore
public import LedgerPipeline
public import LedgerStore

/// What `ledger run` is asked to do.
public enum RunAction: Sendable {
    /// Run `window` (default: the window of the schedule's last fire time), after finishing any unfinished runs.
    case trigger(window: RunWindow?, trigger: String, rerunFailed: Bool)
    /// Finish an unfinished run without repeating a completed step.
    case resume(run: String)
    /// End an unfinished run with `run.failed`.
    case abandon(run: String, reason: String)
}

extension WorkspaceSession {
    /// Runs the pipeline under the workspace's run lock: extract, dataset, drift, train, evaluate, register.
    ///
    /// - Parameters:
    ///   - source: the Audit DB (`sqlite:PATH` or a PostgreSQL URL), else `pipeline.source`.
    ///   - waitSeconds: how long to wait for another run to finish; 0 refuses at once.
    ///   - notify: progress, as each step starts, completes, fails or is retried.
    /// - Returns: one outcome per run touched, in order: resumed runs first, then the window's own.
    public func run(
        _ action: RunAction,
        source: String?,
        threads: Int,
        waitSeconds: Double = 0,
        notify: @escaping @Sendable (RunNotice) -> Void
    ) async throws -> [RunOutcome] {
        let lock = try await acquireRunLock(purpose: "ledger run", waitSeconds: waitSeconds)
        defer { lock.release() }
        var requireSource = true
        if case .trigger = action {} else { requireSource = false }
        let runner = try await pipelineRunner(
            source: source,
            threads: threads,
            requireSource: requireSource,
            notify: notify
        )
        switch action {
        case .abandon(let run, let reason):
            return [try await runner.abandon(run, reason: reason)]
        case .resume(let run):
            return [try await runner.resume(run)]
        case .trigger(let window, let trigger, let rerunFailed):
            var outcomes: [RunOutcome] = []
            let window = try window ?? workspace.defaultWindow()
            let target = runner.settings.runID(for: window)
            // Unfinished runs first, oldest first; the window's own run, if open, is resumed by its trigger.
            for open in try await runner.openRuns() where open != target && !open.hasPrefix(target + "#") {
                outcomes.append(try await runner.resume(open))
            }
            outcomes.append(try await runner.trigger(window, by: trigger, rerunFailed: rerunFailed))
            return outcomes
        }
    }
}

extension Workspace {
    /// The window of the schedule's last fire time at or before now.
    public func defaultWindow(now: Timestamp = SystemClock().now()) throws(LedgerError) -> RunWindow {
        let schedule = try CronSchedule(pipeline.schedule)
        return try scheduledWindow(firedAt: schedule.previousFire(atOrBefore: now) ?? now)
    }
}

extension RunOutcome {
    /// `ledger run --json`'s object for this outcome: the run's history, its disposition, and whether it resumed.
    public var jsonValue: JSONValue {
        var summary = history.jsonValue.objectValue ?? [:]
        summary["disposition"] = .string(disposition.rawValue)
        summary["resumed"] = .bool(resumed)
        return .object(summary)
    }
}
