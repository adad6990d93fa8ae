/// The name of every event kind the ledger knows: the one place where these strings are spelled.
///
/// A name read from signed bytes is matched byte for byte (``init(bytes:)``), never with `String`'s `==`, which is
/// canonical equivalence (see ``Identifier``). `init(rawValue:)` is the synthesized one; use ``init(bytes:)`` for
/// anything read from a log.
public enum EventType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ledgerCreated = "ledger.created"
    case keyAdded = "key.added"
    case keyRevoked = "key.revoked"
    case policySet = "policy.set"
    case dataExtracted = "data.extracted"
    case datasetBuilt = "dataset.built"
    case modelTrained = "model.trained"
    case modelEvaluated = "model.evaluated"
    case modelRegistered = "model.registered"
    case noteAdded = "note.added"
    case modelApproved = "model.approved"
    case modelRejected = "model.rejected"
    case modelDeployed = "model.deployed"
    case modelRolledBack = "model.rolledBack"
    case modelRetired = "model.retired"
    case runStarted = "run.started"
    case stepFailed = "step.failed"
    case runCompleted = "run.completed"
    case runFailed = "run.failed"
    case driftMeasured = "drift.measured"

    private static let byBytes: [Identifier: EventType] = Dictionary(
        uniqueKeysWithValues: allCases.map { (Identifier($0.rawValue), $0) }
    )

    /// The type whose name has exactly these UTF-8 bytes, or nil.
    public init?(bytes name: String) {
        guard let type = Self.byBytes[Identifier(name)] else { return nil }
        self = type
    }

    public var description: String { rawValue }
}

extension Event {
    /// This event's type, matched byte for byte, or nil for a type the catalog does not know.
    public var eventType: EventType? { EventType(bytes: type) }

    /// Whether this event is of `type`, byte for byte.
    public func `is`(_ type: EventType) -> Bool { self.type.hasSameBytes(as: type.rawValue) }
}

extension EventType {
    /// The Swift type of this kind's data.
    public var dataType: any EventData.Type {
        switch self {
        case .ledgerCreated: LedgerCreated.self
        case .keyAdded: KeyAdded.self
        case .keyRevoked: KeyRevoked.self
        case .policySet: PolicySet.self
        case .dataExtracted: DataExtracted.self
        case .datasetBuilt: DatasetBuilt.self
        case .modelTrained: ModelTrained.self
        case .modelEvaluated: ModelEvaluated.self
        case .modelRegistered: ModelRegistered.self
        case .noteAdded: NoteAdded.self
        case .modelApproved: ModelApproved.self
        case .modelRejected: ModelRejected.self
        case .modelDeployed: ModelDeployed.self
        case .modelRolledBack: ModelRolledBack.self
        case .modelRetired: ModelRetired.self
        case .runStarted: RunStarted.self
        case .stepFailed: StepFailed.self
        case .runCompleted: RunCompleted.self
        case .runFailed: RunFailed.self
        case .driftMeasured: DriftMeasured.self
        }
    }
}

extension Event {
    /// This event's data decoded as its kind and encoded again: the same JSON value for any data that matches the
    /// kind's shape. Refuses an unknown type or data that does not decode.
    public func reencodedData() throws(LedgerError) -> JSONValue {
        guard let type = eventType else { throw LedgerError(.unknownType, "unknown event type \"\(type)\"") }
        return try Self.reencode(data, as: type.dataType)
    }

    private static func reencode<Data: EventData>(
        _ data: JSONValue,
        as kind: Data.Type
    ) throws(LedgerError) -> JSONValue {
        try Data(data: data).data()
    }
}
