public import LedgerCore
public import LedgerML

/// Something that turns a dataset into a model artifact and scores rows with such an artifact.
///
/// A trainer MUST be deterministic: the same dataset, parameters and seed give byte-identical model bytes, which is
/// what `ledger reproduce` checks. Scores follow one convention everywhere: higher means more anomalous.
public protocol Trainer: Sendable {
    /// What `model.trained` records about the trainer: `{"version", "command"?, "files"?, "environment"?}`.
    func identity() throws(LedgerError) -> TrainerIdentity
    /// The hyperparameters as `model.trained` records them.
    var parameters: JSONValue { get }
    /// Trains on the rows of `data.train`; `datasetCSV` is the dataset's exact bytes, for trainers that read it.
    func train(_ data: TrainingData, datasetCSV: [UInt8], seed: UInt64) throws(LedgerError) -> [UInt8]
    /// Scores each row of `rows` with a model this trainer made.
    func scores(model: [UInt8], rows: FeatureMatrix) throws(LedgerError) -> [Double]
}

/// A trainer as a `model.trained` event names it.
public struct TrainerIdentity: Sendable, Hashable {
    /// `isolation-forest` for the built-in trainer, `command` for an external one.
    public var algorithm: String
    /// The built-in trainer's ``IsolationForest/trainerVersion``; an external trainer's contract version.
    public var version: String
    /// An external trainer's command line, as configured.
    public var command: [String]?
    /// The files the command names (the program, its script), each with its SHA-256.
    public var files: [FileDigest] = []
    /// The environment an external trainer ran with.
    public var environment: [String: String]?

    public struct FileDigest: Sendable, Hashable {
        public var path: String
        public var sha256: Hash256
    }

    public init(algorithm: String, version: String) {
        self.algorithm = algorithm
        self.version = version
    }

    /// The `trainer` member of `model.trained`.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["version": .string(version)]
        if let command { members["command"] = .array(command.map(JSONValue.string)) }
        if command != nil {
            members["files"] = .array(files.map { ["path": .string($0.path), "sha256": .string($0.sha256.hex)] })
        }
        if let environment { members["environment"] = .object(environment.mapValues(JSONValue.string)) }
        return .object(members)
    }
}

/// The built-in trainer: LedgerML's Isolation Forest.
public struct IsolationForestTrainer: Trainer {
    public let forest: IsolationForestParameters
    /// Threads for training and scoring; the model does not depend on it.
    public let threads: Int

    public init(trees: Int = 100, samples: Int = 256, maxFeatures: Double = 1, threads: Int = 1) {
        self.forest = IsolationForestParameters(trees: trees, samples: samples, maxFeatures: maxFeatures, seed: 0)
        self.threads = max(1, threads)
    }

    /// Reads `{"trees","samples","maxFeatures"}` as `model.trained` records them; absent members take the defaults.
    public init(parameters: JSONValue, threads: Int = 1) throws(LedgerError) {
        guard parameters.objectValue != nil else {
            throw LedgerError(.invalidArgument, "isolation-forest parameters must be an object")
        }
        let unknown = Set(parameters.objectValue?.keys ?? []).subtracting(["trees", "samples", "maxFeatures"])
        guard unknown.isEmpty else {
            throw LedgerError(
                .invalidArgument,
                "unknown isolation-forest parameter \(unknown.sorted()[0]) (known: trees, samples, maxFeatures)"
            )
        }
        func integer(_ name: String, _ fallback: Int) throws(LedgerError) -> Int {
            guard let value = parameters[name] else { return fallback }
            guard let integer = value.integerValue else {
                throw LedgerError(.invalidArgument, "isolation-forest parameter \(name) must be an integer")
            }
            return Int(integer)
        }
        let maxFeatures = parameters["maxFeatures"]?.doubleValue ?? 1
        self.init(
            trees: try integer("trees", 100),
            samples: try integer("samples", 256),
            maxFeatures: maxFeatures,
            threads: threads
        )
        do { try forest.validate() } catch { throw LedgerError(.invalidArgument, error.reason) }
    }

    public func identity() -> TrainerIdentity {
        TrainerIdentity(algorithm: IsolationForest.algorithm, version: IsolationForest.trainerVersion)
    }

    public var parameters: JSONValue {
        [
            "trees": .int(forest.trees), "samples": .int(forest.samples), "maxFeatures": .number(forest.maxFeatures),
        ]
    }

    public func train(_ data: TrainingData, datasetCSV: [UInt8], seed: UInt64) throws(LedgerError) -> [UInt8] {
        var parameters = forest
        parameters.seed = seed
        do {
            return try IsolationForest.train(data.train, parameters: parameters, threads: threads).serialized()
        } catch {
            throw LedgerError(.invalidArgument, "training failed: \(error.reason)")
        }
    }

    public func scores(model: [UInt8], rows: FeatureMatrix) throws(LedgerError) -> [Double] {
        do {
            return try IsolationForest(serialized: model).scores(rows, threads: threads)
        } catch {
            throw LedgerError(.modelArtifact, "the model artifact cannot score these rows: \(error.reason)")
        }
    }
}

extension LedgerError.Code {
    /// A model artifact that does not parse as its trainer's format.
    public static let modelArtifact = Self(rawValue: "model.artifact")
    /// An external trainer that cannot run or broke its contract: not found, wrong output.
    public static let trainerFailed = Self(rawValue: "trainer.failed")
    /// An external trainer that exited non-zero or was killed; the message ends with its standard error.
    public static let trainerCrashed = Self(rawValue: "trainer.crashed")
    /// `ledger reproduce` found a difference.
    public static let notReproduced = Self(rawValue: "reproduce.differs")
}
