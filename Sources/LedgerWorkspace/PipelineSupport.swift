import Foundation
import LedgerArtifacts
public import LedgerAudit
public import LedgerCore
public import LedgerPipeline
import LedgerPostgres
public import LedgerProjections
import LedgerStore

extension Workspace {
    /// The pipeline's run lock file: `run.lock` in the workspace folder.
    public var runLockPath: String { root.appendingPathComponent("run.lock").path }

    /// The Audit DB of `--source` (a relative SQLite path is from the current folder), else of `pipeline.source`
    /// (from the workspace folder). A PostgreSQL URL is taken as it is; its password, if the URL has none, comes
    /// from `PGPASSWORD` when the extraction connects.
    ///
    /// - Throws: `argument.invalid` if neither names one, if it is malformed, or if `mustExist` and a SQLite file
    ///   does not exist: a missing Audit DB is a mistake to fix, not a failure to retry. Whether a PostgreSQL
    ///   server is reachable is the extraction's business (`extract.source`, retried).
    public func auditSource(_ explicit: String?, mustExist: Bool = true) throws(LedgerError) -> AuditSourceLocation {
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

    /// The window a schedule firing at `time` runs: `pipeline.windowDays` days up to the UTC midnight at or
    /// before the last fire time at or before `time`.
    public func scheduledWindow(firedAt time: Timestamp) throws(LedgerError) -> RunWindow {
        try RunWindow.ending(atMidnightBefore: time, days: pipeline.windowDays)
    }
}

extension WorkspaceSession {
    /// Takes the pipeline's run lock: `run.lock` in the workspace folder and, for a log in PostgreSQL, an advisory
    /// lock in the log's database as well, so that workspaces on other machines sharing the log take turns too.
    /// Parameters and errors as ``RunLock/acquire(at:purpose:waitSeconds:stop:shared:)``.
    public func acquireRunLock(
        purpose: String,
        waitSeconds: Double = 0,
        stop: StopSignal? = nil
    ) async throws(LedgerError) -> RunLock {
        var shared: RunLock.SharedLock?
        if let store = store as? PostgresEventStore {
            let host = ProcessInfo.processInfo.hostName
            let lock = try await PostgresRunLock.connect(to: store, holder: "\(purpose), pid \(getpid()) on \(host)")
            shared = RunLock.SharedLock(
                tryTake: { () async throws(LedgerError) -> Bool in try await lock.tryTake() },
                holder: { await lock.holder() },
                release: { lock.release() }
            )
        }
        return try await RunLock.acquire(
            at: workspace.runLockPath,
            purpose: purpose,
            waitSeconds: waitSeconds,
            stop: stop,
            shared: shared
        )
    }

    /// A runner over this workspace's log and artifacts, signing with the pipeline key, with the task's
    /// ``PipelineHooks`` installed (none in the `ledger` product).
    ///
    /// With `requireSource` false a missing Audit DB is no error here: resuming a run past its extract, or a
    /// scheduler that should keep trying, does not need it now; a run that does records `extract.source`.
    public func pipelineRunner(
        source: String?,
        threads: Int,
        requireSource: Bool = true,
        stop: StopSignal = StopSignal(),
        notify: @escaping @Sendable (RunNotice) -> Void
    ) async throws -> PipelineRunner {
        var steps = try modelSteps(key: nil, threads: threads)
        let settings = PipelineSettings(
            pipeline: workspace.model.name,
            target: workspace.model.target,
            auditSource: try workspace.auditSource(source, mustExist: requireSource),
            quality: DataQualityPolicy(rawValue: workspace.qualityPolicy) ?? .refuse,
            holdoutPercent: workspace.pipeline.holdoutPercent,
            trainer: try workspace.model.makeTrainer(root: workspace.root.path, threads: threads),
            evaluation: workspace.model.evaluation,
            drift: workspace.model.drift,
            retry: workspace.pipeline.retry,
            configDigest: workspace.runConfigDigest,
            codeVersion: LedgerVersion.current
        )
        let hooks = PipelineHooks.current
        steps.willAppend = hooks.willAppend
        var runner = PipelineRunner(steps: steps, settings: settings, clock: SystemClock(), stop: stop, notify: notify)
        runner.beforeAttempt = hooks.beforeAttempt
        runner.afterStep = hooks.afterStep
        return runner
    }

    /// The train/evaluate steps over this workspace's log and artifacts, signing with the key in `key` or the
    /// workspace's pipeline key.
    public func modelSteps(key: String?, threads: Int) throws(LedgerError) -> PipelineSteps {
        PipelineSteps(
            ledger: ledger,
            artifacts: try artifacts(),
            signer: try signer(key, role: .pipeline),
            workingDirectory: workspace.root.path,
            threads: threads
        )
    }
}

extension Projections {
    /// A key's name for display, or its keyid's first 12 digits.
    public func who(_ keyID: String) -> String {
        keyNames[keyID].map { $0.isEmpty ? String(keyID.prefix(12)) : $0 } ?? String(keyID.prefix(12))
    }
}
