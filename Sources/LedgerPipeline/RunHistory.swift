public import LedgerArtifacts
public import LedgerCore
public import LedgerStore

/// What the log says about one run: its start, each step that succeeded (with the event that records it), the
/// failed attempts, and how it ended. The runner reads it before every run and resume, so a step is never done
/// twice: its outputs are found through its event, by digest.
public struct RunHistory: Sendable {
    public let run: String
    public let startedSeq: UInt64
    public let trigger: String
    public let window: RunWindow
    /// The seed of the retry jitter, as `run.started` recorded it; nil for a run whose start recorded no retry
    /// settings.
    public let seed: UInt64?
    /// The configuration digest (hex) and code version the run started with.
    public let configDigest: String
    public let codeVersion: String
    /// The version that served the target when the run started: its drift reference and champion.
    public let champion: (name: String, version: Int)?
    /// The step events of the run, by step.
    public private(set) var completed: [RunStep: Event] = [:]
    /// Failed attempts so far, by step.
    public private(set) var failures: [RunStep: Int] = [:]
    /// `run.completed` or `run.failed`, once the run ended.
    public private(set) var ended: Event?
    /// The error `run.failed` recorded, once the run failed.
    private var failure: StepError?

    /// The snapshot, dataset and model the run produced so far.
    public private(set) var snapshot: ArtifactDigest?
    public private(set) var dataset: ArtifactDigest?
    public private(set) var model: ArtifactDigest?
    /// The drift verdict, if the run measured drift.
    public private(set) var driftVerdict: String?
    /// `pass` or `fail`, once evaluated.
    public private(set) var verdict: String?
    /// `name@version` of the version the run registered, if the gate passed.
    public private(set) var registered: String?

    /// Reads every event of `run` from its `run.started` on.
    ///
    /// - Throws: `argument.invalid` if the log never started `run`; `event.schema` if an event of the run does not
    ///   have its kind's shape.
    public init(run: String, ledger: Ledger) async throws(LedgerError) {
        guard let startedSeq = await ledger.state.runs.started[run] else {
            throw LedgerError(.invalidArgument, "the log has no run \(run); see `ledger runs`")
        }
        let size = try await ledger.store.size()
        let entries = try await ledger.store.entries(in: startedSeq..<size)
        guard let first = entries.first else { throw LedgerError(.invalidArgument, "the log has no run \(run)") }
        let started = try SignedEvent(leaf: first.leaf).event
        guard started.is(.runStarted) else {
            throw LedgerError(.malformed, "seq \(startedSeq) is not the run.started of \(run)")
        }
        let data = try started.decode(RunStarted.self)
        self.run = run
        self.startedSeq = startedSeq
        self.trigger = data.trigger.rawValue
        self.window = try RunWindow(from: data.window.from, to: data.window.to)
        self.seed = data.retry?.seed
        self.configDigest = data.config.sha256.hex
        self.codeVersion = data.code.version
        self.champion = data.champion.map { ($0.name, $0.version) }
        for entry in entries.dropFirst() {
            try record(try SignedEvent(leaf: entry.leaf).event)
        }
    }

    /// Takes in a later event; events of other runs are ignored.
    ///
    /// - Throws: `event.schema` if the event does not have its kind's shape.
    mutating func record(_ event: Event) throws(LedgerError) {
        // Run ids are told apart by their bytes (see Identifier), never by Unicode equivalence.
        func ours(_ id: String?) -> Bool { id?.hasSameBytes(as: run) == true }
        switch event.eventType {
        case .stepFailed:
            let failed = try event.decode(StepFailed.self)
            guard ours(failed.run) else { return }
            if let step = RunStep.allCases.first(where: { $0.rawValue.hasSameBytes(as: failed.step) }) {
                failures[step, default: 0] += 1
            }
        case .runCompleted:
            guard ours(try event.decode(RunCompleted.self).run) else { return }
            ended = event
            failure = nil
        case .runFailed:
            let failed = try event.decode(RunFailed.self)
            guard ours(failed.run) else { return }
            ended = event
            failure = failed.error
        case .dataExtracted:
            let extracted = try event.decode(DataExtracted.self)
            guard ours(extracted.run) else { return }
            completed[.extract] = event
            snapshot = ArtifactDigest(sha256: extracted.snapshot.sha256)
        case .datasetBuilt:
            let built = try event.decode(DatasetBuilt.self)
            guard ours(built.run) else { return }
            completed[.dataset] = event
            dataset = ArtifactDigest(sha256: built.dataset.sha256)
        case .driftMeasured:
            let drift = try event.decode(DriftMeasured.self)
            guard ours(drift.run) else { return }
            completed[.drift] = event
            driftVerdict = drift.verdict.rawValue
        case .modelTrained:
            let trained = try event.decode(ModelTrained.self)
            guard ours(trained.run) else { return }
            completed[.train] = event
            model = ArtifactDigest(sha256: trained.artifact.sha256)
        case .modelEvaluated:
            let evaluated = try event.decode(ModelEvaluated.self)
            guard ours(evaluated.run) else { return }
            completed[.evaluate] = event
            verdict = evaluated.verdict.rawValue
        case .modelRegistered:
            let registration = try event.decode(ModelRegistered.self)
            guard ours(registration.run) else { return }
            completed[.register] = event
            registered = "\(registration.name)@\(registration.version)"
        default:
            return
        }
    }

    /// Whether the run ended, and how: `completed` or `failed`; nil while it is open.
    public var status: String? { ended.map { $0.is(.runCompleted) ? "completed" : "failed" } }

    /// A summary for `--json` output and logs.
    public var jsonValue: JSONValue {
        var steps: [String: JSONValue] = [:]
        for (step, event) in completed { steps[step.rawValue] = .int(event.seq) }
        let members: [String: JSONValue?] = [
            "run": .string(run), "trigger": .string(trigger),
            "window": ["from": .string(window.from.rfc3339), "to": .string(window.to.rfc3339)],
            "status": .string(status ?? "running"), "started": .int(startedSeq), "steps": .object(steps),
            "failedAttempts": .int(failures.values.reduce(0, +)),
            "snapshot": snapshot.map { .string($0.description) }, "dataset": dataset.map { .string($0.description) },
            "model": model.map { .string($0.description) }, "drift": driftVerdict.map(JSONValue.string),
            "verdict": verdict.map(JSONValue.string), "registered": registered.map(JSONValue.string),
            "ended": ended.map { .int($0.seq) }, "error": failure.flatMap { try? JSONValueEncoding.encode($0) },
        ]
        return .object(members.compactMapValues { $0 })
    }
}
