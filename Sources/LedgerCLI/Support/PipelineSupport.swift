import Foundation
import LedgerArtifacts
import LedgerAudit
import LedgerCore
import LedgerPipeline
import LedgerPostgres
import LedgerStore

extension Workspace {
    /// The pipeline's run lock file: `run.lock` in the workspace folder.
    var runLockPath: String { root.appendingPathComponent("run.lock").path }

    /// Takes the pipeline's run lock: `run.lock` in the workspace folder and, for a log in PostgreSQL, an advisory
    /// lock in the log's database as well, so that workspaces on other machines sharing the log take turns too.
    /// Parameters and errors as ``RunLock/acquire(at:purpose:waitSeconds:stop:shared:)``.
    func acquireRunLock(
        purpose: String,
        waitSeconds: Double = 0,
        stop: StopSignal? = nil
    ) async throws(LedgerError) -> RunLock {
        var shared: RunLock.SharedLock?
        if case .postgres = try logLocation, let store = try await openStore() as? PostgresEventStore {
            let host = ProcessInfo.processInfo.hostName
            let lock = try await PostgresRunLock.connect(to: store, holder: "\(purpose), pid \(getpid()) on \(host)")
            shared = RunLock.SharedLock(
                tryTake: { () async throws(LedgerError) -> Bool in try await lock.tryTake() },
                holder: { await lock.holder() },
                release: { lock.release() }
            )
        }
        return try await RunLock.acquire(
            at: runLockPath,
            purpose: purpose,
            waitSeconds: waitSeconds,
            stop: stop,
            shared: shared
        )
    }

    /// The Audit DB of `--source` (a relative SQLite path is from the current folder), else of `pipeline.source`
    /// (from the workspace folder). A PostgreSQL URL is taken as it is; its password, if the URL has none, comes
    /// from `PGPASSWORD` when the extraction connects.
    ///
    /// - Throws: `argument.invalid` if neither names one, if it is malformed, or if `mustExist` and a SQLite file
    ///   does not exist: a missing Audit DB is a mistake to fix, not a failure to retry. Whether a PostgreSQL
    ///   server is reachable is the extraction's business (`extract.source`, retried).
    func auditSource(_ explicit: String?, mustExist: Bool = true) throws(LedgerError) -> AuditSourceLocation {
        guard let text = explicit ?? pipeline.source else {
            throw LedgerError(
                .invalidArgument,
                "no Audit DB: pass --source sqlite:PATH (or \(AuditSourceOption.postgresShape)), or set "
                    + "\"pipeline\": {\"source\": \"sqlite:PATH\"} in \(Self.configName)"
            )
        }
        guard AuditSourceOption.hasKnownScheme(text) else {
            throw LedgerError(
                .invalidArgument,
                "the source must be sqlite:PATH or \(AuditSourceOption.postgresShape), not \(AuditSourceLocation.redacted(text))"
            )
        }
        let source = try AuditSourceLocation(parsing: text)
        guard case .sqlite(let given) = source else { return source }
        let path = explicit == nil ? path(given) : URL(fileURLWithPath: given).standardizedFileURL.path
        guard !mustExist || Files.exists(path) else {
            throw LedgerError(
                .invalidArgument,
                "no Audit DB at \(path)" + (explicit == nil ? " (pipeline.source in \(Self.configName))" : "")
            )
        }
        return .sqlite(path: path)
    }

    /// A runner over this workspace's log and artifacts, signing with the pipeline key, with the task's
    /// ``PipelineHooks`` installed (none in the `ledger` product).
    ///
    /// With `requireSource` false a missing Audit DB is no error here: resuming a run past its extract, or a
    /// scheduler that should keep trying, does not need it now; a run that does records `extract.source`.
    func pipelineRunner(
        source: String?,
        threads: Int,
        requireSource: Bool = true,
        stop: StopSignal = StopSignal(),
        notify: @escaping @Sendable (RunNotice) -> Void
    ) async throws -> PipelineRunner {
        var steps = try await modelSteps(key: nil, threads: threads)
        let settings = PipelineSettings(
            pipeline: model.name,
            target: model.target,
            auditSource: try auditSource(source, mustExist: requireSource),
            quality: DataQualityPolicy(rawValue: qualityPolicy) ?? .refuse,
            holdoutPercent: pipeline.holdoutPercent,
            trainer: try model.makeTrainer(root: root.path, threads: threads),
            evaluation: model.evaluation,
            drift: model.drift,
            retry: pipeline.retry,
            configDigest: runConfigDigest,
            codeVersion: LedgerVersion.current
        )
        let hooks = PipelineHooks.current
        steps.willAppend = hooks.willAppend
        var runner = PipelineRunner(steps: steps, settings: settings, clock: SystemClock(), stop: stop, notify: notify)
        runner.beforeAttempt = hooks.beforeAttempt
        runner.afterStep = hooks.afterStep
        return runner
    }

    /// The window a schedule firing at `time` runs: `pipeline.windowDays` days up to the UTC midnight at or
    /// before the last fire time at or before `time`.
    func scheduledWindow(firedAt time: Timestamp) throws(LedgerError) -> RunWindow {
        try RunWindow.ending(atMidnightBefore: time, days: pipeline.windowDays)
    }
}

/// Turns a runner's notices into progress lines.
struct RunReporter: Sendable {
    let console: Console

    func lines(for notice: RunNotice) -> [String] {
        switch notice {
        case .started(let run, let trigger, _): return ["run \(run) started (trigger: \(trigger))"]
        case .resumed(let run, let next): return ["run \(run) was left open: resuming at \(next.rawValue)"]
        case .attempt(_, let step, let attempt):
            return attempt > 1 ? ["  \(pad(step)) attempt \(attempt)"] : []
        case .completed(_, let step, let events):
            return events.map { event in
                let shown = RunStep.allCases.first { $0.eventType == event.type } ?? step
                return "  \(pad(shown)) seq \(event.seq)  \(Self.summary(of: event))"
            }
        case .skipped(_, let step, let reason): return ["  \(pad(step)) skipped: \(reason)"]
        case .failed(_, let step, let attempt, let failure, let retryInMs):
            let next = retryInMs.map { "retrying in \(String(format: "%.1f", Double($0) / 1000)) s" } ?? "giving up"
            return [
                "  \(pad(step)) attempt \(attempt) failed (\(failure.transient ? "transient" : "permanent") "
                    + "\(failure.code): \(failure.message)); \(next)"
            ]
        case .finished(let run, let status): return ["run \(run) \(status)"]
        case .interrupted(let run, let next):
            return ["run \(run) stopped before \(next.rawValue); `ledger run --resume \(run)` finishes it"]
        }
    }

    private func pad(_ step: RunStep) -> String { step.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) }

    /// One line on what a step's event says.
    static func summary(of event: Event) -> String {
        let data = event.data
        switch event.type {
        case "data.extracted":
            return "\(data["rows"]?.integerValue ?? 0) rows → snapshot sha256:\(short(data["snapshot"]))"
        case "dataset.built":
            return "\(data["rows"]?["train"]?.integerValue ?? 0) train and "
                + "\(data["rows"]?["holdout"]?.integerValue ?? 0) holdout rows → dataset sha256:\(short(data["dataset"]))"
        case "drift.measured":
            let worst = (data["features"]?.arrayValue ?? []).max {
                ($0["psi"]?.doubleValue ?? 0) < ($1["psi"]?.doubleValue ?? 0)
            }
            return
                "\(data["verdict"]?.stringValue ?? "?") (largest PSI \(Gate.format(worst?["psi"]?.doubleValue ?? 0)) "
                + "on \(worst?["name"]?.stringValue ?? "?"); scores \(Gate.format(data["scores"]?["psi"]?.doubleValue ?? 0)))"
        case "model.trained":
            return "model sha256:\(short(data["artifact"])) on \(data["rows"]?.integerValue ?? 0) rows "
                + "in \(data["durationMs"]?.integerValue ?? 0) ms"
        case "model.evaluated":
            var line = "AUC-ROC \(Gate.format(data["candidate"]?["aucRoc"]?.doubleValue ?? 0))"
            if let champion = data["champion"] {
                line +=
                    " vs \(champion["name"]?.stringValue ?? "")@\(champion["version"]?.integerValue ?? 0) "
                    + "\(Gate.format(champion["metrics"]?["aucRoc"]?.doubleValue ?? 0))"
            }
            return line + ": \(data["verdict"]?.stringValue ?? "?")"
        case "model.registered":
            return "registered \(data["name"]?.stringValue ?? "")@\(data["version"]?.integerValue ?? 0)"
        default:
            return event.type
        }
    }

    private static func short(_ artifact: JSONValue?) -> String {
        String((artifact?["sha256"]?.stringValue ?? "").prefix(12)) + "…"
    }
}
