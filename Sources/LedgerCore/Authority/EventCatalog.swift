/// The event types a ledger accepts, the role each requires and the shape of its data.
///
/// An event type not listed here is refused when appending and reported by the verifier.
public struct EventKind: Sendable {
    public let eventType: EventType
    /// The type's name, as events spell it.
    public var type: String { eventType.rawValue }
    /// The role the signing key must hold; nil means any active key may sign.
    public let requiredRole: Role?
    public let shape: DataShape
    /// One line for `--help` and the docs.
    public let summary: String

    init(type: EventType, requiredRole: Role?, shape: DataShape, summary: String) {
        self.eventType = type
        self.requiredRole = requiredRole
        self.shape = shape
        self.summary = summary
    }
}

public enum EventCatalog {
    /// `{"keyid","name","publicKey","roles"}`: a key and what it may sign.
    static let keyRecord = DataShape.object(required: [
        "keyid": .lowercaseHex(byteCount: 32),
        "name": .string(minLength: 1, maxLength: 128),
        "publicKey": .lowercaseHex(byteCount: 32),
        "roles": .array(.oneOf(Role.allCases.map(\.rawValue)), minItems: 1, maxItems: 5, uniqueItems: true),
    ])

    /// `{"requiredApprovals", "gate"?}`: the governance policy; see ``Policy`` and ``Gate``.
    static let policy = DataShape.object(
        required: ["requiredApprovals": .integer(minimum: 1, maximum: 100)],
        optional: [
            "gate": .object(
                required: [:],
                optional: [
                    "minAucRoc": .number(minimum: 0, maximum: 1),
                    "minImprovement": .number(minimum: -1, maximum: 1),
                    "minLowerBound": .number(minimum: -1, maximum: 1),
                    "firstModelMinAucRoc": .number(minimum: 0, maximum: 1),
                ]
            )
        ]
    )

    static let sha256 = DataShape.object(required: ["sha256": .lowercaseHex(byteCount: 32)])
    /// `{"seq","sha256"}`: an earlier event and the artifact it recorded.
    static let eventArtifact = DataShape.object(required: [
        "seq": .integer(minimum: 0), "sha256": .lowercaseHex(byteCount: 32),
    ])
    static let fraction = DataShape.number(minimum: 0, maximum: 1)
    /// The holdout metrics of one model.
    static let metrics = DataShape.object(required: [
        "aucRoc": fraction, "averagePrecision": fraction, "precisionAtK": fraction, "recallAtBudget": fraction,
    ])
    /// A registered model's name: letters, digits, `.`, `_` and `-` (checked by the rules), so `MODEL@VERSION`
    /// always parses.
    static let modelName = DataShape.string(minLength: 1, maxLength: 64)
    /// A pipeline run's id (see `run.started`); a step's event names the run it belongs to.
    static let runID = DataShape.string(minLength: 1, maxLength: 256)
    /// A feature column's name in a new event: 1 to 64 letters, digits, `.`, `_` or `-` (the feature spec's names are
    /// snake_case); events already in a log may have any name of 1 to 128 characters.
    static let featureName = DataShape.tightened(.token(maxLength: 64), released: .string(minLength: 1, maxLength: 128))
    /// The most features a new `model.trained` or `drift.measured` lists (the feature spec has 10).
    public static let maximumFeatures = 128
    /// The most subjects a new event names, and the longest subject name, in characters: with the other bounds, they
    /// keep every new leaf within ``Envelope/maximumBundledLeafBytes``. Events already in a log may name any number
    /// of subjects of up to 256 characters.
    public static let maximumSubjects = 8
    /// See ``maximumSubjects``.
    public static let maximumSubjectNameLength = 64

    /// The external trainer's bounds in a new `model.trained`: at most this many command arguments (and as many
    /// files), each argument and path at most ``maximumTrainerArgumentLength`` characters without control characters.
    public static let maximumTrainerArguments = 8
    /// See ``maximumTrainerArguments``.
    public static let maximumTrainerArgumentLength = 256
    /// At most this many environment variables, named like tokens of up to 64 characters, each value at most
    /// ``maximumTrainerEnvironmentValueLength`` characters without control characters.
    public static let maximumTrainerEnvironmentVariables = 8
    /// See ``maximumTrainerEnvironmentVariables``.
    public static let maximumTrainerEnvironmentValueLength = 256
    /// At most this many hyperparameters, named like tokens of up to 64 characters, each a number, a boolean or a
    /// string of at most ``maximumParameterStringLength`` characters without control characters.
    public static let maximumParameters = 16
    /// See ``maximumParameters``.
    public static let maximumParameterStringLength = 64
    /// The longest name of a parameter or of an environment variable in a new `model.trained`.
    public static let maximumParameterNameLength = 64

    /// Refuses subjects that a new event may not name (see ``maximumSubjects``), with `event.schema`.
    public static func validateNewSubjects(_ subjects: [Subject]) throws(LedgerError) {
        guard subjects.count <= maximumSubjects else {
            throw LedgerError(
                .schema,
                "subject: expected at most \(maximumSubjects) subjects in a new event, found \(subjects.count)"
            )
        }
        for (index, subject) in subjects.enumerated()
        where subject.name.isEmpty || subject.name.unicodeScalars.count > maximumSubjectNameLength {
            throw LedgerError(
                .schema,
                "subject[\(index)].name: expected a string of 1 to \(maximumSubjectNameLength) characters in a new event"
            )
        }
    }

    /// A command argument or a file path of an external trainer in a new `model.trained`.
    static let trainerArgument = DataShape.text(minLength: 1, maxLength: maximumTrainerArgumentLength)

    public static let kinds: [String: EventKind] = Dictionary(
        uniqueKeysWithValues: [
            EventKind(
                type: .ledgerCreated,
                requiredRole: .admin,
                shape: .object(required: [
                    "keys": .tightened(
                        .array(keyRecord, minItems: 1, maxItems: 32),
                        released: .array(keyRecord, minItems: 1, maxItems: 100)
                    ),
                    "policy": policy,
                ]),
                summary: "Genesis (seq 0 only): names the log's first keys, their roles, and the policy."
            ),
            EventKind(
                type: .keyAdded,
                requiredRole: .admin,
                shape: keyRecord,
                summary: "Adds a key with its roles."
            ),
            EventKind(
                type: .keyRevoked,
                requiredRole: .admin,
                shape: .object(required: [
                    "keyid": .lowercaseHex(byteCount: 32), "reason": .string(minLength: 1, maxLength: 1024),
                ]),
                summary: "Revokes a key: its earlier events stay valid, later ones are refused."
            ),
            EventKind(
                type: .policySet,
                requiredRole: .admin,
                shape: .object(required: ["policy": policy]),
                summary: "Replaces the governance policy."
            ),
            EventKind(
                type: .dataExtracted,
                requiredRole: .pipeline,
                shape: .object(
                    required: [
                        "source": .object(required: ["kind": .oneOf(["sqlite", "postgres"])]),
                        "queryDigest": .lowercaseHex(byteCount: 32),
                        "window": .object(required: ["from": .timestamp, "to": .timestamp]),
                        "rows": .integer(minimum: 1),
                        "snapshot": .object(required: ["sha256": .lowercaseHex(byteCount: 32)]),
                        "policy": .oneOf(["refuse", "quarantine"]),
                        "quarantined": .object(
                            required: [:],
                            optional: Dictionary(
                                uniqueKeysWithValues: [
                                    "nullRequired", "unknownOutcome", "timeOutsideWindow", "timeInFuture",
                                    "invalidUTF8",
                                ]
                                .map { ($0, DataShape.integer(minimum: 1)) }
                            )
                        ),
                    ],
                    optional: ["run": runID]
                ),
                summary:
                    "A window of the Audit DB was read into a snapshot artifact: digests and counts, never personal data."
            ),
            EventKind(
                type: .datasetBuilt,
                requiredRole: .pipeline,
                shape: .object(
                    required: [
                        "extract": .object(required: [
                            "seq": .integer(minimum: 0),
                            "snapshot": .object(required: ["sha256": .lowercaseHex(byteCount: 32)]),
                        ]),
                        "featureSpec": .object(required: [
                            "version": .integer(minimum: 1), "sha256": .lowercaseHex(byteCount: 32),
                        ]),
                        "dataset": .object(required: ["sha256": .lowercaseHex(byteCount: 32)]),
                        "manifest": .object(required: ["sha256": .lowercaseHex(byteCount: 32)]),
                        "split": .object(required: [
                            "holdoutFrom": .timestamp, "holdoutPercent": .integer(minimum: 1, maximum: 99),
                        ]),
                        "rows": .object(required: ["train": .integer(minimum: 1), "holdout": .integer(minimum: 1)]),
                        "labelled": .object(required: [
                            "train": .object(required: [
                                "anomalous": .integer(minimum: 0), "benign": .integer(minimum: 0),
                            ]),
                            "holdout": .object(required: [
                                "anomalous": .integer(minimum: 0), "benign": .integer(minimum: 0),
                            ]),
                        ]),
                    ],
                    optional: ["run": runID]
                ),
                summary:
                    "A feature dataset and its manifest were built from a data.extracted snapshot: digests and counts, never personal data."
            ),
            EventKind(
                type: .modelTrained,
                requiredRole: .pipeline,
                shape: .object(
                    required: [
                        "algorithm": .string(minLength: 1, maxLength: 64),
                        "trainer": .object(
                            required: ["version": .string(minLength: 1, maxLength: 128)],
                            optional: [
                                "command": .tightened(
                                    .array(trainerArgument, minItems: 1, maxItems: maximumTrainerArguments),
                                    released: .array(.string(minLength: 1, maxLength: 4096), minItems: 1, maxItems: 64)
                                ),
                                "files": .tightened(
                                    .array(
                                        .object(required: [
                                            "path": trainerArgument, "sha256": .lowercaseHex(byteCount: 32),
                                        ]),
                                        maxItems: maximumTrainerArguments
                                    ),
                                    released: .array(
                                        .object(required: [
                                            "path": .string(minLength: 1, maxLength: 4096),
                                            "sha256": .lowercaseHex(byteCount: 32),
                                        ]),
                                        maxItems: 64
                                    )
                                ),
                                "environment": .tightened(
                                    .map(
                                        name: .token(maxLength: maximumParameterNameLength),
                                        value: .text(minLength: 0, maxLength: maximumTrainerEnvironmentValueLength),
                                        maxMembers: maximumTrainerEnvironmentVariables
                                    ),
                                    released: .anyObject
                                ),
                            ]
                        ),
                        "parameters": .tightened(
                            .map(
                                name: .token(maxLength: maximumParameterNameLength),
                                value: .scalar(string: .text(minLength: 0, maxLength: maximumParameterStringLength)),
                                maxMembers: maximumParameters
                            ),
                            released: .anyObject
                        ),
                        "seed": .integer(minimum: 0),
                        "dataset": eventArtifact,
                        "features": .tightened(
                            .array(featureName, minItems: 1, maxItems: maximumFeatures),
                            released: .array(featureName, minItems: 1, maxItems: 10_000)
                        ),
                        "rows": .integer(minimum: 1),
                        "artifact": sha256,
                        "durationMs": .integer(minimum: 0),
                    ],
                    optional: ["run": runID]
                ),
                summary:
                    "A model was trained on a dataset.built dataset: algorithm, trainer, parameters, seed and the model artifact's digest."
            ),
            EventKind(
                type: .modelEvaluated,
                requiredRole: .pipeline,
                shape: .object(
                    required: [
                        "model": eventArtifact,
                        "holdout": .object(required: [
                            "dataset": eventArtifact, "rows": .integer(minimum: 2), "anomalous": .integer(minimum: 1),
                        ]),
                        "alertBudget": .object(required: ["fraction": fraction, "k": .integer(minimum: 1)]),
                        "candidate": metrics,
                        "policy": sha256,
                        "verdict": .oneOf(["pass", "fail"]),
                        "reasons": .tightened(
                            .array(.text(minLength: 1, maxLength: 512), minItems: 1, maxItems: 16),
                            released: .array(.string(minLength: 1, maxLength: 1024), minItems: 1, maxItems: 64)
                        ),
                    ],
                    optional: [
                        "run": runID,
                        "champion": .object(required: [
                            "name": modelName, "version": .integer(minimum: 1), "sha256": .lowercaseHex(byteCount: 32),
                            "metrics": metrics,
                        ]),
                        "difference": .object(required: [
                            "aucRoc": .number(minimum: -1, maximum: 1),
                            "lower": .number(minimum: -1, maximum: 1),
                            "upper": .number(minimum: -1, maximum: 1),
                            "confidence": .number(minimum: 0.5, maximum: 0.999),
                            "replicates": .integer(minimum: 100, maximum: 100_000),
                            "seed": .integer(minimum: 0),
                        ]),
                    ]
                ),
                summary:
                    "A trained model was scored on its dataset's holdout beside the champion, and the gate gave its verdict."
            ),
            EventKind(
                type: .modelRegistered,
                requiredRole: .pipeline,
                shape: .object(
                    required: [
                        "name": modelName, "version": .integer(minimum: 1), "model": eventArtifact,
                        "evaluation": .object(required: ["seq": .integer(minimum: 0)]),
                    ],
                    optional: ["run": runID]
                ),
                summary: "A model that passed the gate became the next version of a registered model."
            ),
            EventKind(
                type: .noteAdded,
                requiredRole: nil,
                shape: .object(
                    required: ["text": .string(minLength: 1, maxLength: 4096)],
                    optional: ["refs": .array(.integer(minimum: 0), minItems: 1, maxItems: 1000, uniqueItems: true)]
                ),
                summary: "A free-text annotation by any active key, optionally referring to earlier seqs."
            ),
        ].map { ($0.type, $0) } + (governanceKinds + runKinds).map { ($0.type, $0) }
    )

    /// The kind of `type`, byte for byte, or `event.unknownType`.
    ///
    /// Every type in the catalog is ASCII, so once a type is found here, comparing it with a string literal (as the
    /// rules' `switch`es do) compares bytes.
    public static func kind(of type: String) throws(LedgerError) -> EventKind {
        guard let kind = kinds[type], kind.type.hasSameBytes(as: type) else {
            throw LedgerError(
                .unknownType,
                "unknown event type \"\(type)\" (known: \(kinds.keys.sorted().joined(separator: ", ")))"
            )
        }
        return kind
    }
}
