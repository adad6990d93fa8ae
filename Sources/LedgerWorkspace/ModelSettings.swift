public import LedgerCore
public import LedgerPipeline

/// The `"model"` member of `ledger.json`: what the pipeline trains, how it is judged, and where it is served.
///
/// Every member is optional; `ledger init` writes the defaults out so they can be edited:
///
/// ```json
/// "model": {"name": "access-anomaly", "target": "production", "trainer": "isolation-forest",
///           "parameters": {"trees": 100, "samples": 256, "maxFeatures": 1},
///           "alertBudget": 0.05, "bootstrap": {"replicates": 1000, "confidence": 0.95},
///           "drift": {"moderate": 0.1, "significant": 0.25}}
/// ```
///
/// `"drift"` holds the PSI thresholds of `ledger drift measure`'s verdict.
///
/// With `"trainer": "command"`, `"command": ["python3", "trainers/train.py"]` names an external trainer that
/// follows the `modelledger.trainer/v1` contract, and `"environment": {"NAME": "value"}` adds variables to the
/// environment it runs with (recorded in `model.trained`: never put a secret there).
public struct ModelSettings: Sendable {
    public var name = "access-anomaly"
    public var target = "production"
    public var trainer = "isolation-forest"
    public var parameters: JSONValue = ["trees": 100, "samples": 256, "maxFeatures": 1]
    public var command: [String] = []
    public var environment: [String: String] = [:]
    public var evaluation = EvaluationSettings()
    public var drift = DriftThresholds()

    public init() {}

    public init(json: JSONValue, configPath: String) throws(LedgerError) {
        func fail(_ reason: String) -> LedgerError { LedgerError(.file, "\(configPath): model.\(reason)") }
        guard let members = json.objectValue else {
            throw LedgerError(.file, "\(configPath): \"model\" must be an object")
        }
        let known: Set = [
            "name", "target", "trainer", "parameters", "command", "environment", "alertBudget", "bootstrap", "drift",
        ]
        if let unknown = members.keys.filter({ !known.contains($0) }).sorted().first {
            throw fail("\(unknown) is not a setting (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let value = members["name"] {
            guard let name = value.stringValue, ModelRules.isValidName(name) else {
                throw fail("name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
            }
            self.name = name
        }
        if let value = members["target"] {
            guard let target = value.stringValue, ModelRules.isValidName(target) else {
                throw fail("target must be 1 to 64 letters, digits, '.', '_' or '-'")
            }
            self.target = target
        }
        if let value = members["trainer"] {
            guard let trainer = value.stringValue, ["isolation-forest", "command"].contains(trainer) else {
                throw fail("trainer must be \"isolation-forest\" or \"command\"")
            }
            self.trainer = trainer
        }
        if let value = members["parameters"] {
            guard value.objectValue != nil else { throw fail("parameters must be an object") }
            parameters = value
        }
        if let value = members["command"] {
            guard let items = value.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue?.isEmpty == false })
            else { throw fail("command must be a non-empty array of strings, such as [\"python3\", \"train.py\"]") }
            command = items.compactMap(\.stringValue)
        }
        if let value = members["environment"] {
            guard let object = value.objectValue, object.values.allSatisfy({ $0.stringValue != nil }) else {
                throw fail("environment must map names to strings")
            }
            // Names that differ only in Unicode normalization are one name to a process: the first in byte order wins.
            environment = Dictionary(
                object.sortedByKey().compactMap { name, value in value.stringValue.map { (name, $0) } },
                uniquingKeysWith: { first, _ in first }
            )
        }
        if let value = members["alertBudget"] {
            guard let budget = value.doubleValue, budget > 0, budget <= 1 else {
                throw fail("alertBudget must be a fraction of the holdout rows, greater than 0 and at most 1")
            }
            evaluation.alertBudget = budget
        }
        if let value = members["bootstrap"] {
            let replicates = value["replicates"]?.integerValue ?? Int64(evaluation.replicates)
            let confidence = value["confidence"]?.doubleValue ?? evaluation.confidence
            guard value.objectValue != nil, (100...100_000).contains(replicates), confidence >= 0.5, confidence <= 0.999
            else {
                throw fail("bootstrap takes replicates (100 to 100000) and confidence (0.5 to 0.999)")
            }
            evaluation.replicates = Int(replicates)
            evaluation.confidence = confidence
        }
        if let value = members["drift"] {
            let moderate = value["moderate"]?.doubleValue ?? drift.moderate
            let significant = value["significant"]?.doubleValue ?? drift.significant
            guard value.objectValue != nil, moderate >= 0, moderate <= significant, significant <= 100 else {
                throw fail("drift takes moderate and significant PSI thresholds, 0 <= moderate <= significant <= 100")
            }
            drift = DriftThresholds(moderate: moderate, significant: significant)
        }
        if trainer == "command", command.isEmpty {
            throw fail("command is required when trainer is \"command\"")
        }
    }

    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(name), "target": .string(target), "trainer": .string(trainer), "parameters": parameters,
            "alertBudget": .number(evaluation.alertBudget),
            "bootstrap": ["replicates": .int(evaluation.replicates), "confidence": .number(evaluation.confidence)],
            "drift": ["moderate": .number(drift.moderate), "significant": .number(drift.significant)],
        ]
        if !command.isEmpty { members["command"] = .array(command.map(JSONValue.string)) }
        if !environment.isEmpty { members["environment"] = .object(environment.mapValues(JSONValue.string)) }
        return .object(members)
    }

    /// The configured trainer, running in the workspace folder `root`.
    public func makeTrainer(root: String, threads: Int) throws(LedgerError) -> any Trainer {
        switch trainer {
        case "command":
            try CommandTrainer.checked(
                command: command,
                parameters: parameters,
                environment: environment,
                workingDirectory: root
            )
        default:
            try IsolationForestTrainer(parameters: parameters, threads: threads)
        }
    }
}
