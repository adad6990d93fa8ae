public import LedgerCore
public import LedgerStore
import Synchronization

/// A clock that starts at a fixed instant and advances by `step` on every read.
public final class SteppingClock: LedgerClock {
    private let current: Mutex<Int64>
    private let step: Int64

    public init(start: Timestamp = Timestamp(millisecondsSinceEpoch: 1_772_528_400_000), stepMilliseconds: Int64 = 1000)
    {
        current = Mutex(start.millisecondsSinceEpoch)
        step = stepMilliseconds
    }

    public func now() -> Timestamp {
        current.withLock { value in
            defer { value += step }
            return Timestamp(millisecondsSinceEpoch: value)
        }
    }
}

/// Deterministic keys for tests, derived from a name: the same name always gives the same key.
public enum TestKeys {
    public static func key(_ name: String) -> SigningKey {
        let seed = Hash256.sha256(Array("modelledger-test-key:\(name)".utf8)).bytes
        // A SHA-256 output is always a valid Ed25519 seed.
        guard let key = try? SigningKey(seed: seed) else { preconditionFailure("32-byte seed refused") }
        return key
    }

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

/// SplitMix64 (Steele, Lea and Flood 2014): a small generator fully determined by its seed, for test data and
/// simulated histories. Independent of the generators the modules under test use.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
