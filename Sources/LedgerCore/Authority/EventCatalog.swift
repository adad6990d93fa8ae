/// The event types a ledger accepts, the role each requires and the shape of its data.
///
/// An event type not listed here is refused when appending and reported by the verifier.
public struct EventKind: Sendable {
    public let type: String
    /// The role the signing key must hold; nil means any active key may sign.
    public let requiredRole: Role?
    public let shape: DataShape
    /// One line for `--help` and the docs.
    public let summary: String
}

public enum EventCatalog {
    /// `{"keyid","name","publicKey","roles"}`: a key and what it may sign.
    static let keyRecord = DataShape.object(required: [
        "keyid": .lowercaseHex(byteCount: 32),
        "name": .string(minLength: 1, maxLength: 128),
        "publicKey": .lowercaseHex(byteCount: 32),
        "roles": .array(.oneOf(Role.allCases.map(\.rawValue)), minItems: 1, maxItems: 5, uniqueItems: true),
    ])

    /// `{"requiredApprovals", "gate"?}`: the governance policy.
    static let policy = DataShape.object(
        required: ["requiredApprovals": .integer(minimum: 1, maximum: 100)],
        optional: ["gate": .anyObject]
    )

    public static let kinds: [String: EventKind] = Dictionary(
        uniqueKeysWithValues: [
            EventKind(
                type: "ledger.created",
                requiredRole: .admin,
                shape: .object(required: [
                    "keys": .array(keyRecord, minItems: 1, maxItems: 100),
                    "policy": policy,
                ]),
                summary: "Genesis (seq 0 only): names the log's first keys, their roles, and the policy."
            ),
            EventKind(
                type: "key.added",
                requiredRole: .admin,
                shape: keyRecord,
                summary: "Adds a key with its roles."
            ),
            EventKind(
                type: "key.revoked",
                requiredRole: .admin,
                shape: .object(required: [
                    "keyid": .lowercaseHex(byteCount: 32), "reason": .string(minLength: 1, maxLength: 1024),
                ]),
                summary: "Revokes a key: its earlier events stay valid, later ones are refused."
            ),
            EventKind(
                type: "policy.set",
                requiredRole: .admin,
                shape: .object(required: ["policy": policy]),
                summary: "Replaces the governance policy."
            ),
            EventKind(
                type: "data.extracted",
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
                    ]
                ),
                summary:
                    "A window of the Audit DB was read into a snapshot artifact: digests and counts, never personal data."
            ),
            EventKind(
                type: "dataset.built",
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
                    ]
                ),
                summary:
                    "A feature dataset and its manifest were built from a data.extracted snapshot: digests and counts, never personal data."
            ),
            EventKind(
                type: "note.added",
                requiredRole: nil,
                shape: .object(
                    required: ["text": .string(minLength: 1, maxLength: 4096)],
                    optional: ["refs": .array(.integer(minimum: 0), minItems: 1, maxItems: 1000, uniqueItems: true)]
                ),
                summary: "A free-text annotation by any active key, optionally referring to earlier seqs."
            ),
        ].map { ($0.type, $0) }
    )

    /// The kind of `type`, or `event.unknownType`.
    public static func kind(of type: String) throws(LedgerError) -> EventKind {
        guard let kind = kinds[type] else {
            throw LedgerError(
                .unknownType,
                "unknown event type \"\(type)\" (known: \(kinds.keys.sorted().joined(separator: ", ")))"
            )
        }
        return kind
    }
}
