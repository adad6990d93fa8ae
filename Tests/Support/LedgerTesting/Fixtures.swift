public import LedgerCore
// The clock, the generator and the key derivation are the simulator's (also used by `ledger bench`); the tests
// have always found them here.
@_exported public import LedgerSimulation
public import LedgerStore

/// Deterministic keys for tests, derived from a name: the same name always gives the same key.
public enum TestKeys {
    public static func key(_ name: String) -> SigningKey { DerivedKeys.key(name) }

    public static let admin = key("admin")
    public static let log = key("log")
    public static let pipeline = key("pipeline")
    public static let approver = key("approver")
    public static let outsider = key("outsider")
}

/// A small log built through the real append path, for tests that need one.
public enum TestLogs {
    public static let logID = "test.modelledger/log"

    /// A ledger over `store` with genesis (admin + log keys), then a pipeline key and `notes` notes.
    public static func make(
        store: any EventStore = InMemoryEventStore(),
        logID: String = logID,
        notes: Int = 3
    ) async throws -> Ledger {
        let ledger = try await Ledger.create(
            store: store,
            clock: SteppingClock(),
            logID: logID,
            keys: [
                KeyRecord(publicKey: TestKeys.admin.publicKey, name: "admin", roles: [.admin]),
                KeyRecord(publicKey: TestKeys.log.publicKey, name: "log", roles: [.log]),
            ],
            signedBy: TestKeys.admin
        )
        let pipeline = KeyRecord(publicKey: TestKeys.pipeline.publicKey, name: "pipeline", roles: [.pipeline])
        try await ledger.append([EventDraft(type: "key.added", data: pipeline.jsonValue)], signedBy: TestKeys.admin)
        for index in 0..<notes {
            try await ledger.append([note("note \(index)")], signedBy: TestKeys.pipeline)
        }
        return ledger
    }

    public static func note(_ text: String, refs: [Int] = []) -> EventDraft {
        var data: [String: JSONValue] = ["text": .string(text)]
        if !refs.isEmpty { data["refs"] = .array(refs.map { .number(Double($0)) }) }
        return EventDraft(type: "note.added", data: .object(data))
    }
}

/// Events written around the program: properly signed by `key`, placed right after the head of `state` (next seq,
/// its `prev`, a millisecond later), and checked against no rule. What a test appends with raw SQL or hands to the
/// verifier to show that `verify` catches what the append path would have refused.
public enum Forgery {
    public static func next(
        after state: LedgerState,
        type: String,
        data: JSONValue,
        signedBy key: SigningKey
    ) throws -> SignedEvent {
        let event = Event(
            log: state.logID ?? "",
            seq: state.size,
            prev: state.lastLeafHash,
            time: Timestamp(millisecondsSinceEpoch: (state.lastTime?.millisecondsSinceEpoch ?? 0) + 1),
            type: type,
            actor: key.keyID,
            data: data
        )
        return try SignedEvent(signing: event, with: key)
    }
}
