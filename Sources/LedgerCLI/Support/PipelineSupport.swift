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

    /// A runner over this workspace's log and artifacts, signing with the pipeline key, with the faults of
    /// `LEDGER_FAULTS` installed (see ``FaultInjection``).
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
        let faults = try FaultInjection(ProcessInfo.processInfo.environment["LEDGER_FAULTS"] ?? "")
        steps.willAppend = faults.willAppend
        var runner = PipelineRunner(steps: steps, settings: settings, clock: SystemClock(), stop: stop, notify: notify)
        runner.beforeAttempt = faults.beforeAttempt
        runner.afterStep = faults.afterStep
        return runner
    }

    /// The window a schedule firing at `time` runs: `pipeline.windowDays` days up to the UTC midnight at or
    /// before the last fire time at or before `time`.
    func scheduledWindow(firedAt time: Timestamp) throws(LedgerError) -> RunWindow {
        try RunWindow.ending(atMidnightBefore: time, days: pipeline.windowDays)
    }
}

/// Faults for the crash and retry tests, from the environment variable `LEDGER_FAULTS`: a comma-separated list of
///
/// - `kill-before:STEP`: SIGKILL this process just before the step's first attempt,
/// - `kill-inside:STEP`: SIGKILL it after the step's work and artifacts, just before its event is appended,
/// - `kill-after:STEP`: SIGKILL it just after the step's event is appended,
/// - `fail:STEP:N`: make the step's first N attempts fail with a transient `store.failure`,
/// - `fail-permanent:STEP`: make the step fail with a permanent `argument.invalid`,
/// - `slow:STEP:MS`: wait MS milliseconds before each attempt of the step (to stop a process in the middle).
///
/// Never set it outside tests; an unknown entry is an error, so a typo cannot pass silently.
struct FaultInjection: Sendable {
    private var killBefore: Set<RunStep> = []
    private var killInside: Set<String> = []
    private var killAfter: Set<RunStep> = []
    private var failures: [RunStep: Int] = [:]
    private var permanent: Set<RunStep> = []
    private var delays: [RunStep: Int] = [:]

    init(_ text: String) throws(LedgerError) {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: ":").map(String.init)
            guard parts.count >= 2, let step = RunStep(rawValue: parts[1]) else {
                throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) is not a fault")
            }
            switch (parts[0], parts.count) {
            case ("kill-before", 2): killBefore.insert(step)
            case ("kill-inside", 2): killInside.insert(step.eventType)
            case ("kill-after", 2): killAfter.insert(step)
            case ("fail-permanent", 2): permanent.insert(step)
            case ("slow", 3):
                guard let milliseconds = Int(parts[2]), milliseconds > 0 else {
                    throw LedgerError(
                        .invalidArgument,
                        "LEDGER_FAULTS: \(item) needs milliseconds, such as slow:train:2000"
                    )
                }
                delays[step] = milliseconds
            case ("fail", 3):
                guard let count = Int(parts[2]), count > 0 else {
                    throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) needs a count, such as fail:train:2")
                }
                failures[step] = count
            default: throw LedgerError(.invalidArgument, "LEDGER_FAULTS: \(item) is not a fault")
            }
        }
    }

    private static func kill() -> Never {
        _ = Foundation.kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not stop the process")
    }

    var beforeAttempt: (@Sendable (RunStep, Int) async throws(LedgerError) -> Void)? {
        guard !killBefore.isEmpty || !failures.isEmpty || !permanent.isEmpty || !delays.isEmpty else { return nil }
        return { [self] (step, attempt) throws(LedgerError) in
            if let delay = delays[step] { try? await Task.sleep(for: .milliseconds(delay)) }
            if killBefore.contains(step) { Self.kill() }
            if permanent.contains(step) { throw LedgerError(.invalidArgument, "injected permanent fault") }
            if attempt <= failures[step, default: 0] {
                throw LedgerError(.storage, "injected transient fault, attempt \(attempt)")
            }
        }
    }

    var willAppend: (@Sendable (String) async -> Void)? {
        guard !killInside.isEmpty else { return nil }
        return { [killInside] type in if killInside.contains(type) { Self.kill() } }
    }

    var afterStep: (@Sendable (RunStep) async -> Void)? {
        guard !killAfter.isEmpty else { return nil }
        return { [killAfter] step in if killAfter.contains(step) { Self.kill() } }
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
