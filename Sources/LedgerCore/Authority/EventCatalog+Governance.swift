extension EventCatalog {
    /// `{"name","version","sha256"}`: one registered version, bound to its artifact's bytes.
    static let versionFields: [String: DataShape] = [
        "name": modelName, "version": .integer(minimum: 1), "sha256": .lowercaseHex(byteCount: 32),
    ]
    static let reason = DataShape.string(minLength: 1, maxLength: 4096)
    /// A deployment target such as `production`: the same characters as a model name.
    static let target = DataShape.string(minLength: 1, maxLength: 64)

    /// The humans' events: approving, rejecting, deploying, rolling back and retiring registered versions.
    /// ``ModelRules`` holds their rules.
    static let governanceKinds: [EventKind] = [
        EventKind(
            type: .modelApproved,
            requiredRole: .approver,
            shape: .object(required: versionFields.merging(["reason": reason]) { $1 }),
            summary:
                "An approver approved a registered version; the key that trained it may not, and each key counts once."
        ),
        EventKind(
            type: .modelRejected,
            requiredRole: .approver,
            shape: .object(required: versionFields.merging(["reason": reason]) { $1 }),
            summary:
                "An approver vetoed a registered version: it can no longer be approved, deployed or rolled back to."
        ),
        EventKind(
            type: .modelDeployed,
            requiredRole: .deployer,
            shape: .object(required: versionFields.merging(["target": target]) { $1 }),
            summary: "A version with the policy's number of distinct approvals now serves a target."
        ),
        EventKind(
            type: .modelRolledBack,
            requiredRole: .deployer,
            shape: .object(
                required: [
                    "name": modelName, "target": target,
                    "from": .object(required: [
                        "version": .integer(minimum: 1), "sha256": .lowercaseHex(byteCount: 32),
                    ]),
                    "to": .object(required: [
                        "version": .integer(minimum: 1), "sha256": .lowercaseHex(byteCount: 32),
                    ]),
                ],
                optional: ["reason": reason]
            ),
            summary: "A target went back from its current version to one that it served before."
        ),
        EventKind(
            type: .modelRetired,
            requiredRole: .deployer,
            shape: .object(required: versionFields, optional: ["reason": reason]),
            summary: "A version that serves no target was withdrawn for good: it can never be deployed again."
        ),
    ]

    /// The names of a run's steps, in the order the pipeline runs them.
    public static let stepNames = ["extract", "dataset", "drift", "train", "evaluate", "register"]

    /// `{"class","code","message"}`: why a step failed. Transient failures are retried, permanent ones are not.
    static let stepError = DataShape.object(required: [
        "class": .oneOf(["transient", "permanent"]),
        "code": .string(minLength: 1, maxLength: 128),
        "message": .string(minLength: 1, maxLength: 4096),
    ])

    /// PSI, the two-sample KS statistic with its p-value, and the Wasserstein-1 distance of one distribution.
    static let driftStatistics: [String: DataShape] = [
        "psi": .number(minimum: 0, maximum: .greatestFiniteMagnitude),
        "ks": .object(required: ["statistic": fraction, "pValue": fraction]),
        "wasserstein": .number(minimum: 0, maximum: .greatestFiniteMagnitude),
    ]

    /// One feature of `drift.measured`: its name and its ``driftStatistics``.
    static let driftFeature = DataShape.object(required: driftStatistics.merging(["name": featureName]) { $1 })

    /// The pipeline's bookkeeping: a run's start and end, its failed attempts, and the drift it measured.
    static let runKinds: [EventKind] = [
        EventKind(
            type: .runStarted,
            requiredRole: .pipeline,
            shape: .object(
                required: [
                    "run": runID,
                    "trigger": .oneOf(["schedule", "manual", "drift"]),
                    "window": .object(required: ["from": .timestamp, "to": .timestamp]),
                    "config": sha256,
                    "code": .object(required: ["version": .string(minLength: 1, maxLength: 128)]),
                ],
                optional: [
                    "champion": .object(required: versionFields),
                    "retry": .object(required: [
                        "maxAttempts": .integer(minimum: 1, maximum: 1000),
                        "initialBackoffMs": .integer(minimum: 0, maximum: 86_400_000),
                        "maxBackoffMs": .integer(minimum: 0, maximum: 86_400_000),
                        "seed": .integer(minimum: 0, maximum: 9_007_199_254_740_991),
                    ]),
                ]
            ),
            summary:
                "A pipeline run began for a window; its id is unique in the log. champion is the version serving the target as it began (its drift reference and the evaluation's champion); retry is the policy for its failed steps, with the seed of the backoff jitter."
        ),
        EventKind(
            type: .stepFailed,
            requiredRole: .pipeline,
            shape: .object(
                required: [
                    "run": runID, "step": .oneOf(stepNames), "attempt": .integer(minimum: 1, maximum: 1000),
                    "error": stepError,
                ],
                optional: ["retryInMs": .integer(minimum: 0)]
            ),
            summary: "One attempt of a run's step failed; a transient failure names the backoff before the retry."
        ),
        EventKind(
            type: .runCompleted,
            requiredRole: .pipeline,
            shape: .object(required: ["run": runID]),
            summary: "A run finished every step."
        ),
        EventKind(
            type: .runFailed,
            requiredRole: .pipeline,
            shape: .object(required: ["run": runID, "step": .oneOf(stepNames), "error": stepError]),
            summary: "A run gave up at a step after a permanent failure or its last attempt."
        ),
        EventKind(
            type: .driftMeasured,
            requiredRole: .pipeline,
            shape: .object(
                required: [
                    "reference": .object(required: ["dataset": eventArtifact]),
                    "current": .object(required: ["dataset": eventArtifact]),
                    "features": .tightened(
                        .array(driftFeature, minItems: 1, maxItems: maximumFeatures),
                        released: .array(driftFeature, minItems: 1)
                    ),
                    "thresholds": .object(required: [
                        "moderate": .number(minimum: 0, maximum: 100), "significant": .number(minimum: 0, maximum: 100),
                    ]),
                    "verdict": .oneOf(["stable", "moderate", "significant"]),
                ],
                optional: [
                    "run": runID,
                    "scores": .object(
                        required: driftStatistics.merging([
                            "model": .object(required: versionFields)
                        ]) { $1 }
                    ),
                ]
            ),
            summary:
                "The current dataset was compared with the reference (the deployed model's training set): per-feature and score drift, and the verdict."
        ),
    ]
}
