import LedgerArtifacts
import LedgerAudit
public import LedgerCore
import LedgerStore
import Synchronization

/// Asks a runner to stop at the next safe point: between two steps, or during a backoff. A step that has begun
/// always finishes (its event is appended or it fails), so a stopped run is open and resumable, never half-done.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func stop() { flag.store(true, ordering: .releasing) }

    public var isStopped: Bool { flag.load(ordering: .acquiring) }
}

/// What a runner reports while it works, for progress lines and structured logs.
public enum RunNotice: Sendable {
    case started(run: String, trigger: String, window: RunWindow)
    case resumed(run: String, next: RunStep)
    case attempt(run: String, step: RunStep, attempt: Int)
    /// The step's event, or the events of `evaluate` (with `model.registered` when the gate passed).
    case completed(run: String, step: RunStep, events: [Event])
    case skipped(run: String, step: RunStep, reason: String)
    case failed(run: String, step: RunStep, attempt: Int, failure: StepFailure, retryInMs: Int?)
    case finished(run: String, status: String)
    case interrupted(run: String, next: RunStep)
}

/// Why one attempt of a step failed, as `step.failed` records it.
///
/// Transient failures are worth retrying: the store was busy or failed (`store.conflict`, `store.failure`), the
/// Audit DB could not be opened or read (`extract.source`), or an external trainer exited non-zero or was killed
/// (`trainer.crashed`). Everything else is permanent: bad data (`extract.quality`, `extract.empty`,
/// `argument.invalid`), a query that breaks the contract (`extract.query`), a trainer that breaks its contract
/// (`trainer.failed`), a rule that refuses the event, a damaged artifact. A permanent failure ends the run at once.
///
/// The message is the error's first line, at most 1,000 characters: an external trainer's standard error, which
/// follows on later lines and may quote data, never enters the log.
public struct StepFailure: Sendable, Hashable {
    public let transient: Bool
    public let code: String
    public let message: String

    static let transientCodes: Set<LedgerError.Code> = [.conflict, .storage, .extractSource, .trainerCrashed]

    public init(_ error: LedgerError) {
        transient = Self.transientCodes.contains(error.code)
        code = error.code.rawValue
        let line = error.reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        message = String((line.isEmpty ? error.code.rawValue : line).prefix(1000))
    }

    /// The failure as `step.failed` and `run.failed` record it.
    var stepError: StepError {
        StepError(errorClass: transient ? .transient : .permanent, code: code, message: message)
    }
}

/// How a trigger or resume ended.
public struct RunOutcome: Sendable {
    public enum Disposition: String, Sendable {
        /// The run finished every step in this call.
        case completed
        /// The run gave up at a step in this call.
        case failed
        /// The window's run had already completed: nothing was done.
        case alreadyCompleted = "already-completed"
        /// The window's run had already failed: nothing was done (ask for a rerun to try again).
        case alreadyFailed = "already-failed"
        /// A stop was asked for: the run is open and resumes where it stopped.
        case interrupted
    }

    public let disposition: Disposition
    /// Whether this call continued a run that an earlier process had left open.
    public let resumed: Bool
    public let history: RunHistory
}

/// Runs the pipeline: extract → dataset → drift → train → evaluate (and register), one run per window, each
/// step's success one signed event that names the run.
///
/// The guarantees:
/// - **One run per window.** A run's id is derived from the pipeline and the window; triggering a window whose
///   run completed does nothing, and one whose run is open resumes it.
/// - **Resume.** Before each run the log is read; a step whose event is there is never repeated, and its outputs
///   are found by the digests that event recorded. A crash at any point (even between a step's artifacts and its
///   event) leaves an open run that the next trigger or ``resume(_:)`` finishes. Steps are deterministic, so a
///   resumed run's datasets and models have the digests of an uninterrupted one.
/// - **Retries.** A transient failure (see ``StepFailure``) is retried up to the policy's attempts with seeded,
///   jittered exponential backoff; every failed attempt appends `step.failed`, and the last, or a permanent one,
///   also `run.failed`, in the same atomic append. If even that append fails (the store is down), the error is
///   thrown and the run stays open for a resume.
///
/// The runner holds no lock: run one at a time per pipeline (`ledger run` and `ledger schedule` hold the
/// workspace's run lock). Concurrent runners still cannot fork a run: the log refuses a second `run.started`
/// for an id, and every append states the seq it expects.
public struct PipelineRunner: Sendable {
    public let steps: PipelineSteps
    public let settings: PipelineSettings
    /// The clock the extraction judges "future" rows by.
    public var clock: any LedgerClock
    /// Stops the runner at the next step boundary or backoff.
    public var stop: StopSignal
    public var notify: @Sendable (RunNotice) -> Void
    /// Waits out a backoff of the given milliseconds; returns early if the signal stops.
    public var wait: @Sendable (Int, StopSignal) async -> Void
    /// Called before every attempt of a step; an error it throws counts as that attempt's failure. For fault
    /// injection in tests.
    public var beforeAttempt: (@Sendable (RunStep, Int) async throws(LedgerError) -> Void)?
    /// Called after a step's event is appended, before the next step. For fault injection in tests.
    public var afterStep: (@Sendable (RunStep) async -> Void)?

    public init(
        steps: PipelineSteps,
        settings: PipelineSettings,
        clock: any LedgerClock,
        stop: StopSignal = StopSignal(),
        notify: @escaping @Sendable (RunNotice) -> Void = { _ in }
    ) {
        self.steps = steps
        self.settings = settings
        self.clock = clock
        self.stop = stop
        self.notify = notify
        self.wait = Self.sleep
    }

    /// Sleeps `milliseconds`, in slices of at most 100 ms so that a stop is noticed promptly.
    public static let sleep: @Sendable (Int, StopSignal) async -> Void = { milliseconds, stop in
        var left = milliseconds
        while left > 0, !stop.isStopped {
            let slice = min(left, 100)
            try? await Task.sleep(for: .milliseconds(slice))
            left -= slice
        }
    }

    private var ledger: Ledger { steps.ledger }

    /// The runs of this pipeline that started and have not ended, oldest first, as the log says now.
    public func openRuns() async throws(LedgerError) -> [String] {
        try await ledger.catchUp()
        let runs = await ledger.state.runs
        // Byte for byte: `hasPrefix` would match a run id of another pipeline whose name only looks the same.
        let prefix = "\(settings.pipeline)/"
        return runs.started.filter { run, _ in run.utf8.starts(with: prefix.utf8) && runs.finished[run] == nil }
            .sorted { $0.value < $1.value }.map(\.key)
    }

    /// Runs `window`: starts its run, resumes it if it is open, or does nothing if it completed. A window whose
    /// run failed is left alone unless `rerunFailed`, which starts a new run `…#n` for it.
    ///
    /// - Throws: `argument.invalid` for a window that has not ended by the runner's clock (a run covers complete
    ///   windows only, and a window runs once); whatever stops a step from being recorded.
    public func trigger(
        _ window: RunWindow,
        by trigger: String,
        rerunFailed: Bool = false
    ) async throws(LedgerError) -> RunOutcome {
        guard window.to <= clock.now() else {
            throw LedgerError(
                .invalidArgument,
                "the window \(window) has not ended yet: a run covers a complete window, and a window runs once"
            )
        }
        // Another process may have moved the log on since this ledger read it.
        try await ledger.catchUp()
        let started = await ledger.state.runs.started
        var attempt = 1
        while started[settings.runID(for: window, attempt: attempt + 1)] != nil { attempt += 1 }
        let latest = settings.runID(for: window, attempt: attempt)
        if started[latest] != nil {
            let history = try await RunHistory(run: latest, ledger: ledger)
            switch history.status {
            case nil: return try await execute(history, resumed: true)
            case "completed": return RunOutcome(disposition: .alreadyCompleted, resumed: false, history: history)
            default:
                guard rerunFailed else {
                    return RunOutcome(disposition: .alreadyFailed, resumed: false, history: history)
                }
                attempt += 1
            }
        }
        let run = settings.runID(for: window, attempt: attempt)
        let seed = PipelineSteps.defaultSeed(for: Hash256.sha256(Array("retry:\(run)".utf8)))
        guard let recordedTrigger = RunStarted.Trigger(rawValue: trigger) else {
            throw LedgerError(.invalidArgument, "a run is triggered by schedule, manual or drift, not \(trigger)")
        }
        let policy = settings.retry
        let data = RunStarted(
            run: run,
            trigger: recordedTrigger,
            window: TimeWindow(from: window.from, to: window.to),
            config: ContentDigest(sha256: settings.configDigest),
            code: .init(version: settings.codeVersion),
            champion: await servingVersion().map {
                VersionReference(name: $0.name, version: $0.version, sha256: $0.artifact)
            },
            retry: .init(
                maxAttempts: policy.maxAttempts,
                initialBackoffMs: Int64(policy.initialBackoffMs),
                maxBackoffMs: Int64(policy.maxBackoffMs),
                seed: seed
            )
        )
        try await ledger.append([try EventDraft(data)], signedBy: steps.signer)
        notify(.started(run: run, trigger: trigger, window: window))
        return try await execute(try await RunHistory(run: run, ledger: ledger), resumed: false)
    }

    /// Finishes `run` if it is open; reports how it ended otherwise.
    ///
    /// - Throws: `run.changed` if the run started with another configuration or code version: resuming would
    ///   mix the two. Restore them, or ``abandon(_:reason:)`` the run and run the window again.
    public func resume(_ run: String) async throws(LedgerError) -> RunOutcome {
        try await ledger.catchUp()
        let history = try await RunHistory(run: run, ledger: ledger)
        switch history.status {
        case nil: return try await execute(history, resumed: true)
        case "completed": return RunOutcome(disposition: .alreadyCompleted, resumed: false, history: history)
        default: return RunOutcome(disposition: .alreadyFailed, resumed: false, history: history)
        }
    }

    /// Ends the open run `run` with `run.failed` (a permanent `run.abandoned` at its next step), so that its window
    /// can be run again with a rerun. For a run that cannot be finished as it started, such as after a change of
    /// configuration.
    public func abandon(_ run: String, reason: String) async throws(LedgerError) -> RunOutcome {
        try await ledger.catchUp()
        var history = try await RunHistory(run: run, ledger: ledger)
        guard history.status == nil else {
            throw LedgerError(.invalidArgument, "run \(run) already ended at seq \(history.ended?.seq ?? 0)")
        }
        let next = Self.performed.first { history.completed[$0] == nil } ?? .register
        let error = StepError(errorClass: .permanent, code: "run.abandoned", message: String(reason.prefix(4000)))
        for signed in try await ledger.append(
            [try EventDraft(RunFailed(run: run, step: next.rawValue, error: error))],
            signedBy: steps.signer
        ) {
            try history.record(signed.event)
        }
        notify(.finished(run: run, status: "failed"))
        return RunOutcome(disposition: .failed, resumed: false, history: history)
    }

    /// The steps the runner performs itself; `register` happens inside `evaluate`.
    static let performed: [RunStep] = [.extract, .dataset, .drift, .train, .evaluate]

    private func execute(_ start: RunHistory, resumed: Bool) async throws(LedgerError) -> RunOutcome {
        var history = start
        let run = history.run
        if history.configDigest != settings.configDigest.hex || history.codeVersion != settings.codeVersion {
            throw LedgerError(
                .runChanged,
                "run \(run) started with configuration sha256:\(history.configDigest) and code "
                    + "\(history.codeVersion); they are now sha256:\(settings.configDigest.hex) and "
                    + "\(settings.codeVersion). Restore them to resume it, or end it with "
                    + "`ledger run --abandon \(run)` and run the window again with --rerun"
            )
        }
        if resumed, let next = Self.performed.first(where: { history.completed[$0] == nil }) {
            notify(.resumed(run: run, next: next))
        }
        for step in Self.performed {
            var attempt = history.failures[step, default: 0] + 1
            while history.completed[step] == nil {
                if stop.isStopped {
                    notify(.interrupted(run: run, next: step))
                    return RunOutcome(disposition: .interrupted, resumed: resumed, history: history)
                }
                notify(.attempt(run: run, step: step, attempt: attempt))
                do {
                    try await beforeAttempt?(step, attempt)
                    if let events = try await perform(step, history) {
                        for event in events { try history.record(event) }
                        notify(.completed(run: run, step: step, events: events))
                    } else {
                        notify(
                            .skipped(run: run, step: step, reason: "nothing served \(settings.target) when it started")
                        )
                    }
                    await afterStep?(step)
                    break
                } catch {
                    // The step's event may be in the log after all (the append was durable, then reading back
                    // failed), or another process may have recorded it: the log decides, never a second attempt.
                    try await ledger.catchUp()
                    history = try await RunHistory(run: run, ledger: ledger)
                    if history.completed[step] != nil { break }
                    let failure = StepFailure(error)
                    let last = !failure.transient || attempt >= settings.retry.maxAttempts
                    let backoff =
                        last
                        ? nil : settings.retry.backoffMs(afterAttempt: attempt, step: step, seed: history.seed ?? 0)
                    let failed = StepFailed(
                        run: run,
                        step: step.rawValue,
                        attempt: attempt,
                        error: failure.stepError,
                        retryInMs: backoff.map(Int64.init)
                    )
                    var drafts = [try EventDraft(failed)]
                    if last {
                        drafts.append(
                            try EventDraft(RunFailed(run: run, step: step.rawValue, error: failure.stepError))
                        )
                    }
                    for signed in try await ledger.append(drafts, signedBy: steps.signer) {
                        try history.record(signed.event)
                    }
                    notify(.failed(run: run, step: step, attempt: attempt, failure: failure, retryInMs: backoff))
                    if last {
                        notify(.finished(run: run, status: "failed"))
                        return RunOutcome(disposition: .failed, resumed: resumed, history: history)
                    }
                    await wait(backoff ?? 0, stop)
                    attempt += 1
                }
            }
        }
        for signed in try await ledger.append(
            [try EventDraft(RunCompleted(run: run))],
            signedBy: steps.signer
        ) {
            try history.record(signed.event)
        }
        notify(.finished(run: run, status: "completed"))
        return RunOutcome(disposition: .completed, resumed: resumed, history: history)
    }

    /// Does one step; returns its events, or nil for a step with nothing to do (drift when the run started with
    /// no model deployed).
    private func perform(_ step: RunStep, _ history: RunHistory) async throws(LedgerError) -> [Event]? {
        let run = history.run
        switch step {
        case .extract:
            return [
                try await steps.extract(
                    source: settings.auditSource,
                    from: history.window.extractionStart,
                    to: history.window.to,
                    policy: settings.quality,
                    now: clock.now(),
                    run: run
                ).event
            ]
        case .dataset:
            guard let event = history.completed[.extract] else { throw Self.missing(.extract, run) }
            return [
                try await steps.buildDataset(
                    from: try RecordedExtract(event),
                    holdoutPercent: settings.holdoutPercent,
                    run: run
                ).event
            ]
        case .drift:
            guard let dataset = history.dataset else { throw Self.missing(.dataset, run) }
            guard let champion = try await champion(of: history) else { return nil }
            return [
                try await steps.measureDrift(current: dataset, against: champion, thresholds: settings.drift, run: run)
                    .event
            ]
        case .train:
            guard let dataset = history.dataset else { throw Self.missing(.dataset, run) }
            return [try await steps.train(dataset: dataset, trainer: settings.trainer, seed: nil, run: run).event]
        case .evaluate, .register:
            guard let model = history.model else { throw Self.missing(.train, run) }
            return try await steps.evaluate(
                model: model,
                champion: try await champion(of: history),
                settings: settings.evaluation,
                registerAs: settings.pipeline,
                run: run
            ).events
        }
    }

    /// The training rows a run of `window` would build, computed in memory from the Audit DB: nothing is stored
    /// or appended. What `ledger drift check` compares with the champion's training data.
    public func trainingRows(of window: RunWindow) async throws -> TrainingData {
        var snapshot: [UInt8] = []
        _ = try await AuditExtractor.extract(
            source: settings.auditSource,
            from: window.extractionStart,
            to: window.to,
            now: clock.now(),
            policy: settings.quality,
            sink: { snapshot.append(contentsOf: $0) }
        )
        let built = try DatasetBuilder.build(
            snapshot: snapshot,
            from: window.extractionStart,
            to: window.to,
            featureSpec: DatasetBuilder.featureSpecV1,
            holdoutFraction: Double(settings.holdoutPercent) / 100
        )
        return try TrainingData(csv: built.csv)
    }

    /// The version `run.started` recorded as serving the target: the run's drift reference and champion, the
    /// same however often the run is resumed.
    private func champion(of history: RunHistory) async throws(LedgerError) -> ModelRules.Version? {
        guard let (name, version) = history.champion else { return nil }
        guard let champion = await ledger.state.models.version(name, version) else {
            throw LedgerError(
                .malformed,
                "run \(history.run) names the champion \(name)@\(version), which is not registered"
            )
        }
        return champion
    }

    /// The version serving the target now.
    private func servingVersion() async -> ModelRules.Version? {
        let models = await ledger.state.models
        guard let serving = models.targets[settings.target]?.current else { return nil }
        return models.version(serving.name, serving.version)
    }

    private static func missing(_ step: RunStep, _ run: String) -> LedgerError {
        LedgerError(.malformed, "run \(run) has no \(step.eventType) event, which the next step needs")
    }
}
