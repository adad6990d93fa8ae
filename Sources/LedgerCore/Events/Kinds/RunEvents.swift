/// `run.started`: a pipeline run began for a window.
public struct RunStarted: EventData {
    public static let type = EventType.runStarted

    /// What started the run.
    public enum Trigger: String, EventDataEnumeration {
        case schedule
        case manual
        case drift
    }

    /// The pipeline's code version.
    public struct Code: Codable, Sendable, Hashable {
        public var version: String

        public init(version: String) {
            self.version = version
        }
    }

    /// The policy for failed steps, with the seed of the backoff jitter.
    public struct Retry: Codable, Sendable, Hashable {
        public var maxAttempts: Int
        public var initialBackoffMs: Int64
        public var maxBackoffMs: Int64
        public var seed: UInt64

        public init(
            maxAttempts: Int,
            initialBackoffMs: Int64,
            maxBackoffMs: Int64,
            seed: UInt64
        ) {
            self.maxAttempts = maxAttempts
            self.initialBackoffMs = initialBackoffMs
            self.maxBackoffMs = maxBackoffMs
            self.seed = seed
        }
    }

    public var run: String
    public var trigger: Trigger
    public var window: TimeWindow
    public var config: ContentDigest
    public var code: Code
    /// The version serving the target as the run began.
    public var champion: VersionReference?
    public var retry: Retry?

    public init(
        run: String,
        trigger: Trigger,
        window: TimeWindow,
        config: ContentDigest,
        code: Code,
        champion: VersionReference? = nil,
        retry: Retry? = nil
    ) {
        self.run = run
        self.trigger = trigger
        self.window = window
        self.config = config
        self.code = code
        self.champion = champion
        self.retry = retry
    }
}

/// `step.failed`: one attempt of a run's step failed.
public struct StepFailed: EventData {
    public static let type = EventType.stepFailed

    public var run: String
    public var step: String
    public var attempt: Int
    public var error: StepError
    public var retryInMs: Int64?

    public init(
        run: String,
        step: String,
        attempt: Int,
        error: StepError,
        retryInMs: Int64? = nil
    ) {
        self.run = run
        self.step = step
        self.attempt = attempt
        self.error = error
        self.retryInMs = retryInMs
    }
}

/// `run.completed`: a run finished every step.
public struct RunCompleted: EventData {
    public static let type = EventType.runCompleted

    public var run: String

    public init(run: String) {
        self.run = run
    }
}

/// `run.failed`: a run gave up at a step.
public struct RunFailed: EventData {
    public static let type = EventType.runFailed

    public var run: String
    public var step: String
    public var error: StepError

    public init(
        run: String,
        step: String,
        error: StepError
    ) {
        self.run = run
        self.step = step
        self.error = error
    }
}

/// `drift.measured`: the current dataset compared with the reference (the deployed model's training set).
public struct DriftMeasured: EventData {
    public static let type = EventType.driftMeasured

    /// How far the data moved.
    public enum Verdict: String, EventDataEnumeration {
        case stable
        case moderate
        case significant
    }

    /// `{"dataset"}`: the dataset on one side of the comparison.
    public struct Datasets: Codable, Sendable, Hashable {
        public var dataset: RecordedArtifact

        public init(dataset: RecordedArtifact) {
            self.dataset = dataset
        }
    }

    /// One feature's drift.
    public struct Feature: Codable, Sendable, Hashable {
        public var name: String
        public var psi: Double
        public var ks: KolmogorovSmirnov
        public var wasserstein: Double

        public init(
            name: String,
            psi: Double,
            ks: KolmogorovSmirnov,
            wasserstein: Double
        ) {
            self.name = name
            self.psi = psi
            self.ks = ks
            self.wasserstein = wasserstein
        }
    }

    /// The PSI thresholds of the verdict.
    public struct Thresholds: Codable, Sendable, Hashable {
        public var moderate: Double
        public var significant: Double

        public init(moderate: Double, significant: Double) {
            self.moderate = moderate
            self.significant = significant
        }
    }

    /// The drift of the model's scores.
    public struct Scores: Codable, Sendable, Hashable {
        public var model: VersionReference
        public var psi: Double
        public var ks: KolmogorovSmirnov
        public var wasserstein: Double

        public init(
            model: VersionReference,
            psi: Double,
            ks: KolmogorovSmirnov,
            wasserstein: Double
        ) {
            self.model = model
            self.psi = psi
            self.ks = ks
            self.wasserstein = wasserstein
        }
    }

    public var reference: Datasets
    public var current: Datasets
    public var features: [Feature]
    public var thresholds: Thresholds
    public var verdict: Verdict
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?
    public var scores: Scores?

    public init(
        reference: Datasets,
        current: Datasets,
        features: [Feature],
        thresholds: Thresholds,
        verdict: Verdict,
        run: String? = nil,
        scores: Scores? = nil
    ) {
        self.reference = reference
        self.current = current
        self.features = features
        self.thresholds = thresholds
        self.verdict = verdict
        self.run = run
        self.scores = scores
    }
}

/// The optional `run` member of a step's event (`data.extracted`, `dataset.built`, `drift.measured`,
/// `model.trained`, `model.evaluated`, `model.registered`), read without decoding the rest of the data.
struct StepRun: Decodable {
    var run: String?

    init(data: JSONValue) throws(LedgerError) {
        do {
            self = try JSONValueDecoding.decode(Self.self, from: data)
        } catch {
            throw LedgerError(.schema, "data.run: expected a string")
        }
    }
}
