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
    private var steps: IdentifierDictionary<[String: UInt64]> = [:]

    public init() {}

    /// The event types whose `run` member these rules judge, besides the run events themselves.
    static let stepTypes: Set<String> = [
        "data.extracted", "dataset.built", "drift.measured", "model.trained", "model.evaluated", "model.registered",
    ]

    func check(_ event: Event) throws(LedgerError) {
        let run = event.data["run"]?.stringValue
        switch event.type {
        case "run.started":
            let run = run ?? ""
            if let seq = started[run] { throw LedgerError(.policy, "run \(run) already started at seq \(seq)") }
            let from = event.data["window"]?["from"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
            let to = event.data["window"]?["to"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
            guard let from, let to, from < to else {
                throw LedgerError(.schema, "data.window: from must be before to")
            }
        case "step.failed", "run.completed", "run.failed":
            try requireOpen(run ?? "", for: event)
        case _ where Self.stepTypes.contains(event.type):
            if let run {
                try requireOpen(run, for: event)
                if let seq = steps[run]?[event.type] {
                    throw LedgerError(.policy, "run \(run) already has its \(event.type), at seq \(seq)")
                }
            }
        default:
            break
        }
    }

    mutating func apply(_ event: Event) {
        guard let run = event.data["run"]?.stringValue else { return }
        switch event.type {
        case "run.started": started[run] = event.seq
        case "run.completed", "run.failed":
            finished[run] = event.seq
            steps[run] = nil
        case _ where Self.stepTypes.contains(event.type): steps[run, default: [:]][event.type] = event.seq
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
