public import LedgerAudit
public import LedgerCore

/// The half-open window `[from, to)` of Audit DB time that one pipeline run trains on.
public struct RunWindow: Sendable, Hashable, CustomStringConvertible {
    public let from: Timestamp
    public let to: Timestamp

    /// - Throws: `argument.invalid` unless `from < to`.
    public init(from: Timestamp, to: Timestamp) throws(LedgerError) {
        guard from < to else { throw LedgerError(.invalidArgument, "a window's start must be before its end") }
        self.from = from
        self.to = to
    }

    /// The window of `days` days that ends at the UTC midnight at or before `time`: the window a schedule that
    /// fires at `time` runs. A run on Monday 03:00 gets the week from the previous Monday to this one.
    public static func ending(atMidnightBefore time: Timestamp, days: Int) throws(LedgerError) -> RunWindow {
        try ending(before: time, alignedTo: AuditTimestamp.millisecondsPerDay, days: days)
    }

    /// The window of `days` days that ends at the last multiple of `unit` milliseconds (since 1970, UTC) at or
    /// before `time`: with an hour, the last `days` days up to the whole hour.
    public static func ending(
        before time: Timestamp,
        alignedTo unit: Int64,
        days: Int
    ) throws(LedgerError)
        -> RunWindow
    {
        let end = time.millisecondsSinceEpoch - ((time.millisecondsSinceEpoch % unit) + unit) % unit
        return try RunWindow(
            from: Timestamp(millisecondsSinceEpoch: end - Int64(days) * AuditTimestamp.millisecondsPerDay),
            to: Timestamp(millisecondsSinceEpoch: end)
        )
    }

    /// Reads `FROM..TO`, each a time as ``Timestamp/init(userInput:)`` reads it (a date means midnight UTC), such
    /// as `2026-03-02..2026-03-09`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "..", omittingEmptySubsequences: false)
        guard parts.count == 2, let from = Timestamp(userInput: String(parts[0])),
            let to = Timestamp(userInput: String(parts[1])), from < to
        else {
            return nil
        }
        self.from = from
        self.to = to
    }

    /// `2026-03-02` for a UTC midnight, else the full RFC 3339 time.
    static func format(_ time: Timestamp) -> String {
        let text = time.rfc3339
        return text.hasSuffix("T00:00:00.000Z") ? String(text.prefix(10)) : text
    }

    /// Where a run's extraction starts: the window's start less the 14-day history the features need, so that
    /// the dataset's rows are exactly the window's hours.
    public var extractionStart: Timestamp {
        Timestamp(millisecondsSinceEpoch: from.millisecondsSinceEpoch - DatasetBuilder.lookbackV1)
    }

    /// `FROM..TO`, with dates for midnights: what ``init(parsing:)`` reads back.
    public var description: String { "\(Self.format(from))..\(Self.format(to))" }
}

/// How a run retries a failed step: up to ``maxAttempts`` attempts, waiting between them an exponentially growing
/// backoff with "equal jitter", drawn from a generator seeded by the run.
///
/// Before attempt `n + 1` the wait is `b/2 + u × b/2` milliseconds, where `b = min(maxBackoffMs,
/// initialBackoffMs × 2^(n-1))` and `u` in [0, 1) is the first draw of SplitMix64 seeded with
/// `seed ^ (step index + 1) << 32 ^ n`. The same run, step and attempt always wait the same time, also after a
/// resume, and `step.failed` records the wait as `retryInMs`.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int

    public init(maxAttempts: Int = 3, initialBackoffMs: Int = 2000, maxBackoffMs: Int = 60_000) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
    }

    /// The valid range of ``maxAttempts`` (the event schema's limit).
    public static let attemptRange = 1...1000

    /// The wait before the attempt after failed attempt `attempt` (counted from 1) of step `step`.
    public func backoffMs(afterAttempt attempt: Int, step: RunStep, seed: UInt64) -> Int {
        let doublings = min(max(attempt - 1, 0), 40)
        let base = min(Double(maxBackoffMs), Double(initialBackoffMs) * Double(1 << UInt64(doublings)))
        var state = seed ^ (UInt64(step.index + 1) << 32) ^ UInt64(attempt)
        let unit = Double(Self.splitMix64(&state) >> 11) / Double(1 << 53)
        return Int((base / 2 + unit * base / 2).rounded(.down))
    }

    static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    var jsonValue: JSONValue {
        [
            "maxAttempts": .int(maxAttempts), "initialBackoffMs": .int(initialBackoffMs),
            "maxBackoffMs": .int(maxBackoffMs),
        ]
    }
}

/// The steps of a run, in order. Each one's success is one event that names the run; `evaluate` appends
/// `model.evaluated` and, when the gate passes, `model.registered` in the same atomic append, so `register`
/// never runs on its own.
public enum RunStep: String, Sendable, CaseIterable, Comparable {
    case extract
    case dataset
    case drift
    case train
    case evaluate
    case register

    var index: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.index < rhs.index }

    /// The event type that records the step's success.
    public var recordingType: EventType {
        switch self {
        case .extract: .dataExtracted
        case .dataset: .datasetBuilt
        case .drift: .driftMeasured
        case .train: .modelTrained
        case .evaluate: .modelEvaluated
        case .register: .modelRegistered
        }
    }

    /// The name of ``recordingType``.
    public var eventType: String { recordingType.rawValue }
}

/// What a run does and how: everything the runner needs besides the log, the artifact store and the keys.
public struct PipelineSettings: Sendable {
    /// The pipeline's name: the model it trains. Run ids start with it.
    public var pipeline: String
    /// The deployment target whose model is the drift reference and the champion.
    public var target: String
    /// The Audit DB, SQLite or PostgreSQL.
    public var auditSource: AuditSourceLocation
    public var quality: DataQualityPolicy
    public var holdoutPercent: Int
    public var trainer: any Trainer
    public var evaluation: EvaluationSettings
    public var drift: DriftThresholds
    public var retry: RetryPolicy
    /// SHA-256 of the configuration, recorded in `run.started`.
    public var configDigest: Hash256
    /// The code version recorded in `run.started`.
    public var codeVersion: String

    public init(
        pipeline: String,
        target: String,
        auditSource: AuditSourceLocation,
        quality: DataQualityPolicy = .refuse,
        holdoutPercent: Int = 20,
        trainer: any Trainer,
        evaluation: EvaluationSettings = EvaluationSettings(),
        drift: DriftThresholds = DriftThresholds(),
        retry: RetryPolicy = RetryPolicy(),
        configDigest: Hash256,
        codeVersion: String
    ) {
        self.pipeline = pipeline
        self.target = target
        self.auditSource = auditSource
        self.quality = quality
        self.holdoutPercent = holdoutPercent
        self.trainer = trainer
        self.evaluation = evaluation
        self.drift = drift
        self.retry = retry
        self.configDigest = configDigest
        self.codeVersion = codeVersion
    }

    /// The id of the first run of `window`: `<pipeline>/<window>`, such as `access-anomaly/2026-03-02..2026-03-09`.
    /// A window whose run failed can be run again on request, as `…#2`, `…#3` and so on.
    public func runID(for window: RunWindow, attempt: Int = 1) -> String {
        "\(pipeline)/\(window)" + (attempt > 1 ? "#\(attempt)" : "")
    }
}
