/// What the log has said so far about pipeline runs: the part of ``LedgerState`` that run events are judged against.
///
/// The rules, enforced when appending and again by the verifier:
/// - `run.started` takes a run id the log has never used, for a window whose start is before its end.
/// - `step.failed`, `run.completed` and `run.failed` name a run that started and has not finished.
/// - A step's event that names a run (`data.extracted`, `dataset.built`, `drift.measured`, `model.trained`,
///   `model.evaluated`, `model.registered`) names a run that started and has not finished, and is the run's
///   first event of its type: a step succeeds at most once per run, whoever appends it.
///
/// Run ids compare byte for byte (see ``Identifier``): `"é"` and `"e\u{301}"` are two runs, as in the read tables.
public struct RunRules: Sendable, Hashable {
    /// The seq of each run's `run.started`, by run id.
    public private(set) var started: IdentifierDictionary<UInt64> = [:]
    /// The seq of each finished run's `run.completed` or `run.failed`, by run id.
    public private(set) var finished: IdentifierDictionary<UInt64> = [:]
    /// The step events of each open run: their seq by type.
    private var steps: IdentifierDictionary<[EventType: UInt64]> = [:]

    public init() {}

    /// The event types whose `run` member these rules judge, besides the run events themselves.
    static let stepTypes: Set<EventType> = [
        .dataExtracted, .datasetBuilt, .driftMeasured, .modelTrained, .modelEvaluated, .modelRegistered,
    ]

    /// The run `event` belongs to: required of the run events, optional for a step's event, nil for other kinds.
    public static func run(of event: Event) throws(LedgerError) -> String? {
        switch event.eventType {
        case .runStarted: try event.decode(RunStarted.self).run
        case .stepFailed: try event.decode(StepFailed.self).run
        case .runCompleted: try event.decode(RunCompleted.self).run
        case .runFailed: try event.decode(RunFailed.self).run
        case let type? where stepTypes.contains(type): try StepRun(data: event.data).run
        default: nil
        }
    }

    func check(_ event: Event) throws(LedgerError) {
        switch event.eventType {
        case .runStarted:
            let data = try event.decode(RunStarted.self)
            let run = data.run
            if let seq = started[run] { throw LedgerError(.policy, "run \(run) already started at seq \(seq)") }
            guard data.window.from < data.window.to else {
                throw LedgerError(.schema, "data.window: from must be before to")
            }
        case .stepFailed, .runCompleted, .runFailed:
            try requireOpen(Self.run(of: event) ?? "", for: event)
        case let type? where Self.stepTypes.contains(type):
            if let run = try Self.run(of: event) {
                try requireOpen(run, for: event)
                if let seq = steps[run]?[type] {
                    throw LedgerError(.policy, "run \(run) already has its \(event.type), at seq \(seq)")
                }
            }
        default:
            break
        }
    }

    mutating func apply(_ event: Event) {
        guard let type = event.eventType, let run = (try? Self.run(of: event)) ?? nil else { return }
        switch type {
        case .runStarted: started[run] = event.seq
        case .runCompleted, .runFailed:
            finished[run] = event.seq
            steps[run] = nil
        case _ where Self.stepTypes.contains(type): steps[run, default: [:]][type] = event.seq
        default: break
        }
    }

    private func requireOpen(_ run: String, for event: Event) throws(LedgerError) {
        guard started[run] != nil else {
            throw LedgerError(.policy, "\(event.type) names run \(run), which never started")
        }
        if let seq = finished[run] {
            throw LedgerError(.policy, "\(event.type) names run \(run), which finished at seq \(seq)")
        }
    }
}
