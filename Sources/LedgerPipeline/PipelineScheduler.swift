public import LedgerCore
import LedgerStore

/// Triggers the pipeline on a cron schedule, in the foreground, until stopped.
///
/// Each fire time `F` runs the window of ``PipelineSettings`` `windowDays` days that ends at the UTC midnight at or
/// before `F`, with trigger `schedule`. The behaviour:
/// - **Catch-up.** On every wake-up it runs, oldest first, the window of every fire time after the end of the last
///   window a schedule trigger ran, through now. Run ids come from windows, so a window is run exactly once
///   however often the scheduler restarts; with no scheduled run in the log, it starts with the latest window.
/// - **Resume.** Runs of the pipeline that are open (a crash, a stop) are finished first.
/// - **Failure.** A run that fails is logged and the schedule goes on. An error that stops a run (the store
///   unreachable) is logged and retried after ``retryAfterErrorMs``; the open run resumes then.
/// - **Stop.** ``StopSignal`` ends it at the next step boundary or while it sleeps; an interrupted run stays open
///   and resumes at the next start.
public struct PipelineScheduler: Sendable {
    public let runner: PipelineRunner
    public let schedule: CronSchedule
    public let windowDays: Int
    /// Sleeps until an instant, or until the signal stops.
    public var sleep: @Sendable (Timestamp, StopSignal) async -> Void
    /// Takes the pipeline's run lock for a batch of runs; nil holds none.
    public var lock: (@Sendable () async throws(LedgerError) -> RunLock)?
    /// Receives one structured log record per thing that happened.
    public var log: @Sendable ([String: JSONValue]) -> Void
    public var retryAfterErrorMs: Int64 = 60_000

    public init(
        runner: PipelineRunner,
        schedule: CronSchedule,
        windowDays: Int,
        log: @escaping @Sendable ([String: JSONValue]) -> Void
    ) {
        self.runner = runner
        self.schedule = schedule
        self.windowDays = windowDays
        self.log = log
        self.sleep = { deadline, stop in
            while !stop.isStopped {
                let left = deadline.millisecondsSinceEpoch - SystemClock().now().millisecondsSinceEpoch
                if left <= 0 { return }
                try? await Task.sleep(for: .milliseconds(min(left, 250)))
            }
        }
    }

    private var stop: StopSignal { runner.stop }

    /// Runs until the stop signal; returns normally after a stop.
    public func run() async {
        log(["msg": "scheduler started", "schedule": .string(schedule.description), "windowDays": .int(windowDays)])
        while !stop.isStopped {
            let now = runner.clock.now()
            do {
                try await catchUp(now: now)
            } catch {
                if stop.isStopped { break }
                let retry = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch + retryAfterErrorMs)
                log([
                    "level": "error", "msg": "run stopped by an error; retrying", "code": .string(error.code.rawValue),
                    "error": .string(error.reason), "retryAt": .string(retry.rfc3339),
                ])
                await sleep(retry, stop)
                continue
            }
            if stop.isStopped { break }
            guard let next = schedule.nextFire(after: now) else {
                log(["level": "error", "msg": "the schedule never fires again; stopping"])
                return
            }
            log(["msg": "sleeping until the next fire", "next": .string(next.rfc3339)])
            await sleep(next, stop)
        }
        log(["msg": "scheduler stopped"])
    }

    /// Finishes open runs, then runs every window due by `now` that no scheduled run covered yet.
    public func catchUp(now: Timestamp) async throws(LedgerError) {
        let due = try await dueWindows(now: now)
        let open = try await runner.openRuns()
        guard !due.isEmpty || !open.isEmpty else { return }
        let held = try await lock?()
        defer { held?.release() }
        for run in try await runner.openRuns() {
            if stop.isStopped { return }
            report(try await runner.resume(run))
        }
        for window in due {
            if stop.isStopped { return }
            report(try await runner.trigger(window, by: "schedule"))
        }
    }

    /// The windows of the fire times after the last scheduled window's end, through `now`, oldest first; with no
    /// scheduled run yet, the latest window alone.
    public func dueWindows(now: Timestamp) async throws(LedgerError) -> [RunWindow] {
        let fires: [Timestamp]
        if let end = try await lastScheduledEnd() {
            fires = schedule.fires(after: end, through: now)
        } else {
            fires = schedule.previousFire(atOrBefore: now).map { [$0] } ?? []
        }
        var windows: [RunWindow] = []
        for fire in fires {
            let window = try RunWindow.ending(atMidnightBefore: fire, days: windowDays)
            if windows.last != window { windows.append(window) }
        }
        let started = await runner.steps.ledger.state.runs
        return windows.filter { window in
            // A window whose run completed or failed is done; an open one is resumed with the open runs.
            started.started[runner.settings.runID(for: window)] == nil
        }
    }

    /// The end of the latest window a `schedule` trigger started.
    private func lastScheduledEnd() async throws(LedgerError) -> Timestamp? {
        let prefix = "\(runner.settings.pipeline)/"
        var latest: Timestamp?
        for started in try await runner.steps.ledger.store.events(ofTypes: [EventType.runStarted.rawValue]) {
            let data = try started.event.decode(RunStarted.self)
            guard data.trigger == .schedule, data.run.utf8.starts(with: prefix.utf8) else { continue }
            latest = max(latest ?? data.window.to, data.window.to)
        }
        return latest
    }

    private func report(_ outcome: RunOutcome) {
        let history = outcome.history
        // The run history's own member names, which the program chose: a Swift dictionary holds them all.
        var record: [String: JSONValue] = [:]
        for (name, value) in history.jsonValue.objectValue ?? [:] { record[name] = value }
        record["msg"] = .string("run \(outcome.disposition.rawValue)")
        record["level"] = .string(outcome.disposition == .failed ? "error" : "info")
        log(record)
    }
}
