/// `model.trained`: a model was trained on a `dataset.built` dataset.
public struct ModelTrained: EventData {
    public static let type = EventType.modelTrained

    /// A file of an external trainer, by digest.
    public struct File: Codable, Sendable, Hashable {
        public var path: String
        public var sha256: Hash256

        public init(path: String, sha256: Hash256) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// The trainer's version and, for an external trainer, its command, files and environment.
    public struct Trainer: Codable, Sendable, Hashable {
        public var version: String
        public var command: [String]?
        public var files: [File]?
        /// A free-form object.
        public var environment: JSONValue?

        public init(
            version: String,
            command: [String]? = nil,
            files: [File]? = nil,
            environment: JSONValue? = nil
        ) {
            self.version = version
            self.command = command
            self.files = files
            self.environment = environment
        }
    }

    public var algorithm: String
    public var trainer: Trainer
    /// The trainer's parameters: a free-form object.
    public var parameters: JSONValue
    public var seed: UInt64
    public var dataset: RecordedArtifact
    public var features: [String]
    public var rows: Int
    public var artifact: ContentDigest
    public var durationMs: Int64
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?

    public init(
        algorithm: String,
        trainer: Trainer,
        parameters: JSONValue,
        seed: UInt64,
        dataset: RecordedArtifact,
        features: [String],
        rows: Int,
        artifact: ContentDigest,
        durationMs: Int64,
        run: String? = nil
    ) {
        self.algorithm = algorithm
        self.trainer = trainer
        self.parameters = parameters
        self.seed = seed
        self.dataset = dataset
        self.features = features
        self.rows = rows
        self.artifact = artifact
        self.durationMs = durationMs
        self.run = run
    }
}

/// `model.evaluated`: a trained model was scored on its holdout beside the champion; the gate's verdict.
public struct ModelEvaluated: EventData {
    public static let type = EventType.modelEvaluated

    /// The gate's verdict.
    public enum Verdict: String, EventDataEnumeration {
        case pass
        case fail
    }

    /// The holdout the model was scored on.
    public struct Holdout: Codable, Sendable, Hashable {
        public var dataset: RecordedArtifact
        public var rows: Int
        public var anomalous: Int

        public init(
            dataset: RecordedArtifact,
            rows: Int,
            anomalous: Int
        ) {
            self.dataset = dataset
            self.rows = rows
            self.anomalous = anomalous
        }
    }

    /// The share of rows the analysts can review, and the number of alerts that makes.
    public struct AlertBudget: Codable, Sendable, Hashable {
        public var fraction: Double
        public var k: Int

        public init(fraction: Double, k: Int) {
            self.fraction = fraction
            self.k = k
        }
    }

    /// The version serving the target, scored on the same holdout.
    public struct Champion: Codable, Sendable, Hashable {
        public var name: String
        public var version: Int
        public var sha256: Hash256
        public var metrics: HoldoutMetrics

        public init(
            name: String,
            version: Int,
            sha256: Hash256,
            metrics: HoldoutMetrics
        ) {
            self.name = name
            self.version = version
            self.sha256 = sha256
            self.metrics = metrics
        }
    }

    /// The paired-bootstrap AUC-ROC difference, candidate minus champion.
    public struct Difference: Codable, Sendable, Hashable {
        public var aucRoc: Double
        public var lower: Double
        public var upper: Double
        public var confidence: Double
        public var replicates: Int
        public var seed: UInt64

        public init(
            aucRoc: Double,
            lower: Double,
            upper: Double,
            confidence: Double,
            replicates: Int,
            seed: UInt64
        ) {
            self.aucRoc = aucRoc
            self.lower = lower
            self.upper = upper
            self.confidence = confidence
            self.replicates = replicates
            self.seed = seed
        }
    }

    public var model: RecordedArtifact
    public var holdout: Holdout
    public var alertBudget: AlertBudget
    public var candidate: HoldoutMetrics
    public var policy: ContentDigest
    public var verdict: Verdict
    public var reasons: [String]
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?
    public var champion: Champion?
    public var difference: Difference?

    public init(
        model: RecordedArtifact,
        holdout: Holdout,
        alertBudget: AlertBudget,
        candidate: HoldoutMetrics,
        policy: ContentDigest,
        verdict: Verdict,
        reasons: [String],
        run: String? = nil,
        champion: Champion? = nil,
        difference: Difference? = nil
    ) {
        self.model = model
        self.holdout = holdout
        self.alertBudget = alertBudget
        self.candidate = candidate
        self.policy = policy
        self.verdict = verdict
        self.reasons = reasons
        self.run = run
        self.champion = champion
        self.difference = difference
    }
}

/// `model.registered`: a model that passed the gate became the next version of a registered model.
public struct ModelRegistered: EventData {
    public static let type = EventType.modelRegistered

    /// The `model.evaluated` event that passed it.
    public struct Evaluation: Codable, Sendable, Hashable {
        public var seq: UInt64

        public init(seq: UInt64) {
            self.seq = seq
        }
    }

    public var name: String
    public var version: Int
    public var model: RecordedArtifact
    public var evaluation: Evaluation
    /// The pipeline run this step belongs to, if it ran in one.
    public var run: String?

    public init(
        name: String,
        version: Int,
        model: RecordedArtifact,
        evaluation: Evaluation,
        run: String? = nil
    ) {
        self.name = name
        self.version = version
        self.model = model
        self.evaluation = evaluation
        self.run = run
    }
}
