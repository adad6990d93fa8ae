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
/// Audit DB could not be read (`extract.source`), or an external trainer died (`trainer.failed`). Everything
/// else is permanent: bad data (`extract.quality`, `extract.empty`, `argument.invalid`), a rule that refuses
/// the event, a damaged artifact. A permanent failure ends the run at once.
public struct StepFailure: Sendable, Hashable {
    public let transient: Bool
    public let code: String
    public let message: String

    static let transientCodes: Set<LedgerError.Code> = [.conflict, .storage, .extractSource, .trainerFailed]

    public init(_ error: LedgerError) {
        transient = Self.transientCodes.contains(error.code)
        code = error.code.rawValue
        message = String(error.reason.prefix(4000))
    }

    var jsonValue: JSONValue {
        ["class": transient ? "transient" : "permanent", "code": .string(code), "message": .string(message)]
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

    /// The runs of this pipeline that started and have not ended, oldest first.
    public func openRuns() async -> [String] {
        let runs = await ledger.state.runs
        return runs.started.filter { run, _ in run.hasPrefix("\(settings.pipeline)/") && runs.finished[run] == nil }
            .sorted { $0.value < $1.value }.map(\.key)
    }

    /// Runs `window`: starts its run, resumes it if it is open, or does nothing if it completed. A window whose
    /// run failed is left alone unless `rerunFailed`, which starts a new run `…#n` for it.
    public func trigger(
        _ window: RunWindow,
        by trigger: String,
        rerunFailed: Bool = false
    ) async throws(LedgerError) -> RunOutcome {
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
        var retry = settings.retry.jsonValue.objectValue ?? [:]
        retry["seed"] = .int(seed)
        _ = try await ledger.append(
            [
                EventDraft(
                    type: "run.started",
                    data: [
                        "run": .string(run), "trigger": .string(trigger),
                        "window": ["from": .string(window.from.rfc3339), "to": .string(window.to.rfc3339)],
                        "config": ["sha256": .string(settings.configDigest.hex)],
                        "code": ["version": .string(settings.codeVersion)], "retry": .object(retry),
                    ]
                )
            ],
            signedBy: steps.signer
        )
        notify(.started(run: run, trigger: trigger, window: window))
        return try await execute(try await RunHistory(run: run, ledger: ledger), resumed: false)
    }

    /// Finishes `run` if it is open; reports how it ended otherwise.
    public func resume(_ run: String) async throws(LedgerError) -> RunOutcome {
        let history = try await RunHistory(run: run, ledger: ledger)
        switch history.status {
        case nil: return try await execute(history, resumed: true)
        case "completed": return RunOutcome(disposition: .alreadyCompleted, resumed: false, history: history)
        default: return RunOutcome(disposition: .alreadyFailed, resumed: false, history: history)
        }
    }

    /// The steps the runner performs itself; `register` happens inside `evaluate`.
    static let performed: [RunStep] = [.extract, .dataset, .drift, .train, .evaluate]

    private func execute(_ start: RunHistory, resumed: Bool) async throws(LedgerError) -> RunOutcome {
        var history = start
        let run = history.run
        if resumed, let next = Self.performed.first(where: { history.completed[$0] == nil }) {
            notify(.resumed(run: run, next: next))
        }
        for step in Self.performed where history.completed[step] == nil {
            var attempt = history.failures[step, default: 0] + 1
            while true {
                if stop.isStopped {
                    notify(.interrupted(run: run, next: step))
                    return RunOutcome(disposition: .interrupted, resumed: resumed, history: history)
                }
                notify(.attempt(run: run, step: step, attempt: attempt))
                do {
                    try await beforeAttempt?(step, attempt)
                    if let events = try await perform(step, history) {
                        for event in events { history.record(event) }
                        notify(.completed(run: run, step: step, events: events))
                    } else {
                        notify(.skipped(run: run, step: step, reason: "nothing serves \(settings.target) yet"))
                    }
                    await afterStep?(step)
                    break
                } catch {
                    let failure = StepFailure(error)
                    let last = !failure.transient || attempt >= settings.retry.maxAttempts
                    let backoff =
                        last ? nil : settings.retry.backoffMs(afterAttempt: attempt, step: step, seed: history.seed)
                    var failed: [String: JSONValue] = [
                        "run": .string(run), "step": .string(step.rawValue), "attempt": .int(attempt),
                        "error": failure.jsonValue,
                    ]
                    if let backoff { failed["retryInMs"] = .int(backoff) }
                    var drafts = [EventDraft(type: "step.failed", data: .object(failed))]
                    if last {
                        drafts.append(
                            EventDraft(
                                type: "run.failed",
                                data: ["run": .string(run), "step": .string(step.rawValue), "error": failure.jsonValue]
                            )
                        )
                    }
                    for signed in try await ledger.append(drafts, signedBy: steps.signer) {
                        history.record(signed.event)
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
            [EventDraft(type: "run.completed", data: ["run": .string(run)])],
            signedBy: steps.signer
        ) {
            history.record(signed.event)
        }
        notify(.finished(run: run, status: "completed"))
        return RunOutcome(disposition: .completed, resumed: resumed, history: history)
    }

    /// Does one step; returns its events, or nil for a step with nothing to do (drift with no deployed model).
    private func perform(_ step: RunStep, _ history: RunHistory) async throws(LedgerError) -> [Event]? {
        let run = history.run
        let reader = LogReader(store: ledger.store)
        switch step {
        case .extract:
            let extracted = try await steps.extract(
                sqlitePath: settings.auditDatabase,
                from: Timestamp(
                    millisecondsSinceEpoch: history.window.from.millisecondsSinceEpoch
                        - DatasetBuilder.lookbackV1
                ),
                to: history.window.to,
                policy: settings.quality,
                now: clock.now(),
                run: run
            )
            return [try await reader.event(at: extracted.seq, ofType: step.eventType)]
        case .dataset:
            guard let event = history.completed[.extract] else { throw Self.missing(.extract, run) }
            let built = try await steps.buildDataset(
                from: try RecordedExtract(event),
                holdoutPercent: settings.holdoutPercent,
                run: run
            )
            return [try await reader.event(at: built.seq, ofType: step.eventType)]
        case .drift:
            guard let dataset = history.dataset else { throw Self.missing(.dataset, run) }
            guard let champion = await champion() else { return nil }
            let measured = try await steps.measureDrift(
                current: dataset,
                against: champion,
                thresholds: settings.drift,
                run: run
            )
            return [try await reader.event(at: measured.seq, ofType: step.eventType)]
        case .train:
            guard let dataset = history.dataset else { throw Self.missing(.dataset, run) }
            let trained = try await steps.train(dataset: dataset, trainer: settings.trainer, seed: nil, run: run)
            return [try await reader.event(at: trained.seq, ofType: step.eventType)]
        case .evaluate, .register:
            guard let model = history.model else { throw Self.missing(.train, run) }
            let evaluated = try await steps.evaluate(
                model: model,
                champion: await champion(),
                settings: settings.evaluation,
                registerAs: settings.pipeline,
                run: run
            )
            var events = [try await reader.event(at: evaluated.seq, ofType: "model.evaluated")]
            if let registered = evaluated.registered {
                events.append(try await reader.event(at: registered.seq, ofType: "model.registered"))
            }
            return events
        }
    }

    /// The version serving the target: the drift reference and the champion.
    private func champion() async -> ModelRules.Version? {
        let models = await ledger.state.models
        guard let serving = models.targets[settings.target]?.current else { return nil }
        return models.version(serving.name, serving.version)
    }

    private static func missing(_ step: RunStep, _ run: String) -> LedgerError {
        LedgerError(.malformed, "run \(run) has no \(step.eventType) event, which the next step needs")
    }
}
