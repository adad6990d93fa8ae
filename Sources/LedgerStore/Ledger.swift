public import LedgerCore

/// An event to be signed and appended: everything but the fields the ledger fills in
/// (`log`, `seq`, `prev`, `time`, `actor`).
public struct EventDraft: Sendable, Hashable {
    public var type: String
    public var subject: [Subject]
    public var data: JSONValue

    public init(type: String, subject: [Subject] = [], data: JSONValue) {
        self.type = type
        self.subject = subject
        self.data = data
    }
}

/// The append path: builds, checks, signs and stores events, enforcing the same rules the
/// ``Verifier`` replays (``LedgerState/check(_:signer:)``).
///
/// An event that breaks a rule is refused before anything is written. A `Ledger` trusts what its
/// store already holds (the `Verifier` is for the day someone writes around the program), keeps
/// the ``LedgerState`` in memory, and on a `store.conflict` catches up with the entries the other
/// writer appended and tries again.
public actor Ledger {
    public nonisolated let store: any EventStore
    private let clock: any LedgerClock
    public private(set) var state: LedgerState

    /// Event types that change the keyring or policy: all the state needs besides the head.
    static let authorityTypes: Set<String> = ["ledger.created", "key.added", "key.revoked", "policy.set"]

    private init(store: any EventStore, clock: any LedgerClock, state: LedgerState) {
        self.store = store
        self.clock = clock
        self.state = state
    }

    /// Opens an existing log: folds its authority events and its last entry.
    public static func open(store: any EventStore, clock: any LedgerClock) async throws(LedgerError) -> Ledger {
        let size = try await store.size()
        guard size > 0 else { throw LedgerError(.malformed, "the log is empty: it has no genesis event") }
        var state = LedgerState()
        for entry in try await store.entries(ofTypes: authorityTypes) {
            state.apply(try SignedEvent(leaf: entry.leaf))
        }
        // The head: the last entry, unless it was an authority event and is already folded.
        if state.size < size, let last = try await store.entries(in: (size - 1)..<size).first {
            state.apply(try SignedEvent(leaf: last.leaf))
        }
        return Ledger(store: store, clock: clock, state: state)
    }

    /// Writes the genesis event of a new log, signed by `admin`, which must be among `keys` with the admin role.
    public static func create(
        store: any EventStore,
        clock: any LedgerClock,
        logID: String,
        keys: [KeyRecord],
        policy: Policy = Policy(),
        signedBy admin: SigningKey
    ) async throws(LedgerError) -> Ledger {
        guard try await store.size() == 0 else {
            throw LedgerError(.invalidArgument, "the store already holds a log")
        }
        let ledger = Ledger(store: store, clock: clock, state: LedgerState())
        let data: JSONValue = .object(["keys": .array(keys.map(\.jsonValue)), "policy": policy.jsonValue])
        _ = try await ledger.append([EventDraft(type: "ledger.created", data: data)], signedBy: admin, logID: logID)
        return ledger
    }

    /// Signs and appends `drafts` as one atomic batch. Every event is checked first; if any is
    /// refused, nothing is written.
    ///
    /// - Returns: the stored entries, in order.
    @discardableResult
    public func append(_ drafts: [EventDraft], signedBy key: SigningKey) async throws(LedgerError) -> [SignedEvent] {
        try await append(drafts, signedBy: key, logID: nil)
    }

    private func append(
        _ drafts: [EventDraft],
        signedBy key: SigningKey,
        logID: String?
    ) async throws(LedgerError)
        -> [SignedEvent]
    {
        guard !drafts.isEmpty else { return [] }
        var attempt = 0
        while true {
            attempt += 1
            var next = state
            var batch: [SignedEvent] = []
            batch.reserveCapacity(drafts.count)
            let now = clock.now()
            for draft in drafts {
                let event = Event(
                    log: next.logID ?? logID ?? "",
                    seq: next.size,
                    prev: next.lastLeafHash,
                    time: max(now, next.lastTime ?? now),
                    type: draft.type,
                    actor: key.keyID,
                    subject: draft.subject,
                    data: draft.data
                )
                let signed = try SignedEvent(signing: event, with: key)
                let signer = try next.signer(of: signed.envelope, event: event)
                guard signer.publicKey == key.publicKey else {
                    throw LedgerError(.unknownKey, "the signing key is not the keyring's key for its keyid")
                }
                try next.check(signed, signer: signer)
                next.apply(signed)
                batch.append(signed)
            }
            do {
                try await store.append(batch.map(LogEntry.init), expecting: state.size)
                state = next
                return batch
            } catch  where error.code == .conflict && attempt < Self.maxAttempts {
                try await catchUp()
            }
        }
    }

    /// Appends an envelope that was signed elsewhere (for example offline). Its signature, seq,
    /// chain and authority are all checked; it cannot be re-signed here, so if the log moved on
    /// since it was made, the append fails with `chain.sequence`.
    @discardableResult
    public func append(envelope: Envelope) async throws(LedgerError) -> SignedEvent {
        var attempt = 0
        while true {
            attempt += 1
            let signed = try SignedEvent(envelope: envelope)
            let signer = try state.signer(of: envelope, event: signed.event)
            guard envelope.isSigned(by: signer.publicKey) else {
                throw LedgerError(.badSignature, "the envelope's signature does not verify under key \(signer.name)")
            }
            try state.check(signed, signer: signer)
            do {
                try await store.append([LogEntry(signed)], expecting: state.size)
                state.apply(signed)
                return signed
            } catch  where error.code == .conflict && attempt < Self.maxAttempts {
                try await catchUp()
            }
        }
    }

    /// Folds the entries other writers appended since this ledger last looked.
    public func catchUp() async throws(LedgerError) {
        let size = try await store.size()
        guard size > state.size else { return }
        for entry in try await store.entries(in: state.size..<size) {
            state.apply(try SignedEvent(leaf: entry.leaf))
        }
    }

    static let maxAttempts = 1000
}
