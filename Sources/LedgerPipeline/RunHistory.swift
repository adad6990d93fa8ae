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
    /// The seed of the retry jitter, as `run.started` recorded it.
    public let seed: UInt64
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

    /// Reads every event of `run` from its `run.started` on.
    ///
    /// - Throws: `argument.invalid` if the log never started `run`.
    public init(run: String, ledger: Ledger) async throws(LedgerError) {
        guard let startedSeq = await ledger.state.runs.started[run] else {
            throw LedgerError(.invalidArgument, "the log has no run \(run); see `ledger runs`")
        }
        let size = try await ledger.store.size()
        let entries = try await ledger.store.entries(in: startedSeq..<size)
        guard let first = entries.first else { throw LedgerError(.invalidArgument, "the log has no run \(run)") }
        let started = try SignedEvent(leaf: first.leaf).event
        guard started.type == "run.started",
            let from = started.data["window"]?["from"]?.stringValue.flatMap(Timestamp.init(rfc3339:)),
            let to = started.data["window"]?["to"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
        else { throw LedgerError(.malformed, "seq \(startedSeq) is not the run.started of \(run)") }
        self.run = run
        self.startedSeq = startedSeq
        self.trigger = started.data["trigger"]?.stringValue ?? "manual"
        self.window = try RunWindow(from: from, to: to)
        self.seed = UInt64(started.data["retry"]?["seed"]?.integerValue ?? 0)
        self.configDigest = started.data["config"]?["sha256"]?.stringValue ?? ""
        self.codeVersion = started.data["code"]?["version"]?.stringValue ?? ""
        if let name = started.data["champion"]?["name"]?.stringValue,
            let version = started.data["champion"]?["version"]?.integerValue
        {
            self.champion = (name, Int(version))
        } else {
            self.champion = nil
        }
        for entry in entries.dropFirst() {
            record(try SignedEvent(leaf: entry.leaf).event)
        }
    }

    /// Takes in a later event; events of other runs are ignored.
    mutating func record(_ event: Event) {
        // Run ids are told apart by their bytes (see Identifier), never by Unicode equivalence.
        guard let id = event.data["run"]?.stringValue, id.hasSameBytes(as: run) else { return }
        switch event.type {
        case "step.failed":
            if let step = event.data["step"]?.stringValue.flatMap(RunStep.init(rawValue:)) {
                failures[step, default: 0] += 1
            }
        case "run.completed", "run.failed":
            ended = event
        default:
            if let step = RunStep.allCases.first(where: { $0.eventType == event.type }) { completed[step] = event }
        }
    }

    /// Whether the run ended, and how: `completed` or `failed`; nil while it is open.
    public var status: String? { ended.map { $0.type == "run.completed" ? "completed" : "failed" } }

    /// The snapshot, dataset and model the run produced so far.
    public var snapshot: ArtifactDigest? { digest(.extract, "snapshot") }
    public var dataset: ArtifactDigest? { digest(.dataset, "dataset") }
    public var model: ArtifactDigest? { digest(.train, "artifact") }

    private func digest(_ step: RunStep, _ member: String) -> ArtifactDigest? {
        completed[step]?.data[member]?["sha256"]?.stringValue.flatMap(Hash256.init(hex:)).map(
            ArtifactDigest.init(sha256:)
        )
    }

    /// The drift verdict, if the run measured drift.
    public var driftVerdict: String? { completed[.drift]?.data["verdict"]?.stringValue }

    /// `pass` or `fail`, once evaluated.
    public var verdict: String? { completed[.evaluate]?.data["verdict"]?.stringValue }

    /// `name@version` of the version the run registered, if the gate passed.
    public var registered: String? {
        guard let data = completed[.register]?.data, let name = data["name"]?.stringValue,
            let version = data["version"]?.integerValue
        else { return nil }
        return "\(name)@\(version)"
    }

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
            "ended": ended.map { .int($0.seq) }, "error": ended?.data["error"],
        ]
        return .object(members.compactMapValues { $0 })
    }
}
