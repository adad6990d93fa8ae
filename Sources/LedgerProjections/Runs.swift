public import LedgerCore

/// A pipeline run: its trigger and window, each step's attempts and outcome, and how long it all took.
public struct RunRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case running
        case completed
        case failed
    }

    /// One step of a run. Its duration runs from the run's previous event to the step's own event.
    public struct Step: Sendable, Hashable {
        public enum Status: String, Sendable, Hashable {
            /// Failed at least once and has not succeeded yet.
            case retrying
            case completed
            case failed
        }

        public var name: String
        public var status: Status
        /// Attempts so far: the failures, plus the success.
        public var attempts: Int
        /// The step's own event (`data.extracted`, …) once it succeeded.
        public var seq: UInt64?
        public var durationMs: Int64
        /// The last failure's `{"class","code","message"}`.
        public var error: JSONValue?

        public var jsonValue: JSONValue {
            .compact([
                "name": .string(name), "status": .string(status.rawValue), "attempts": .int(attempts),
                "seq": seq.map { .int($0) }, "durationMs": .int(durationMs), "error": error,
            ])
        }

        init(name: String, status: Status, attempts: Int, seq: UInt64?, durationMs: Int64, error: JSONValue?) {
            self.name = name
            self.status = status
            self.attempts = attempts
            self.seq = seq
            self.durationMs = durationMs
            self.error = error
        }

        init(json: JSONValue) throws(LedgerError) {
            let row = try RowReader(json, "run step")
            guard let status = Status(rawValue: try row.string("status")) else {
                throw RowReader.corrupt("run step", "has an unknown status")
            }
            self.init(
                name: try row.string("name"),
                status: status,
                attempts: try row.int("attempts"),
                seq: row.optionalSeq("seq"),
                durationMs: Int64(try row.int("durationMs")),
                error: json["error"]
            )
        }
    }

    public var run: String
    public var trigger: String
    public var windowFrom: Timestamp
    public var windowTo: Timestamp
    public var status: Status
    public var started: EventStamp
    public var ended: EventStamp?
    /// Steps in the order they first appeared.
    public var steps: [Step] = []
    /// The time of the run's latest event: where the next step's duration starts.
    public var lastTime: Timestamp

    /// From `run.started` to `run.completed` or `run.failed`, or to the latest event while running.
    public var durationMs: Int64 {
        (ended?.time ?? lastTime).millisecondsSinceEpoch - started.time.millisecondsSinceEpoch
    }

    /// Records a step's success (`error == nil`) or one failed attempt at `time`.
    mutating func record(step name: String, seq: UInt64?, time: Timestamp, error: JSONValue?, final: Bool) {
        let elapsed = time.millisecondsSinceEpoch - lastTime.millisecondsSinceEpoch
        lastTime = time
        let index =
            steps.firstIndex { $0.name == name }
            ?? {
                steps.append(Step(name: name, status: .retrying, attempts: 0, seq: nil, durationMs: 0, error: nil))
                return steps.count - 1
            }()
        steps[index].attempts += 1
        steps[index].durationMs += elapsed
        if let error {
            steps[index].error = error
            steps[index].status = final ? .failed : .retrying
        } else {
            steps[index].status = .completed
            steps[index].seq = seq
        }
    }

    public var jsonValue: JSONValue {
        .compact([
            "run": .string(run), "trigger": .string(trigger),
            "window": ["from": .string(windowFrom.rfc3339), "to": .string(windowTo.rfc3339)],
            "status": .string(status.rawValue), "started": started.jsonValue, "ended": ended?.jsonValue,
            "durationMs": .int(durationMs), "steps": .array(steps.map(\.jsonValue)),
            "lastTime": .string(lastTime.rfc3339),
        ])
    }

    init(
        run: String,
        trigger: String,
        windowFrom: Timestamp,
        windowTo: Timestamp,
        status: Status,
        started: EventStamp,
        ended: EventStamp? = nil,
        steps: [Step] = [],
        lastTime: Timestamp
    ) {
        self.run = run
        self.trigger = trigger
        self.windowFrom = windowFrom
        self.windowTo = windowTo
        self.status = status
        self.started = started
        self.ended = ended
        self.steps = steps
        self.lastTime = lastTime
    }

    init(json: JSONValue) throws(LedgerError) {
        let row = try RowReader(json, "run")
        let window = try RowReader(json["window"], "run window")
        guard let status = Status(rawValue: try row.string("status")) else {
            throw RowReader.corrupt("run", "has an unknown status")
        }
        self.init(
            run: try row.string("run"),
            trigger: try row.string("trigger"),
            windowFrom: try window.time("from"),
            windowTo: try window.time("to"),
            status: status,
            started: try EventStamp(json: json["started"]),
            ended: try json["ended"].map { (value) throws(LedgerError) in try EventStamp(json: value) },
            steps: try row.array("steps").map { (value) throws(LedgerError) in try Step(json: value) },
            lastTime: try row.time("lastTime")
        )
    }
}
