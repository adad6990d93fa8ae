/// The state a log's next event is judged against: its head, its keyring and its policy.
///
/// It is a pure fold over the log. The append path and the verifier both judge every event with
/// the same two calls, ``signer(of:event:)`` then ``check(_:)``, and then ``apply(_:)`` it, so a
/// rule can never hold in one and not in the other.
public struct LedgerState: Sendable, Hashable {
    /// The log origin, fixed by the genesis event.
    public private(set) var logID: String?
    /// The number of entries so far, which is also the next seq.
    public private(set) var size: UInt64 = 0
    /// The leaf hash of the last entry (``Hash256/zero`` before genesis): the next event's `prev`.
    public private(set) var lastLeafHash: Hash256 = .zero
    /// The leaf hash of the genesis entry: the log's trust anchor.
    public private(set) var genesisLeafHash: Hash256?
    public private(set) var lastTime: Timestamp?
    public private(set) var keyring = Keyring()
    public private(set) var policy = Policy()
    /// Datasets, trained and evaluated models, and registered versions, as far as the rules need them.
    public private(set) var models = ModelRules()
    /// Pipeline runs: which started, and which finished.
    public private(set) var runs = RunRules()

    public init() {}

    /// The event types ``apply(_:)`` learns from beyond the head: the keyring, the policy, data and models.
    /// Folding only these, in log order, and then the last entry, gives the same state as folding every entry.
    public static let statefulTypes: Set<String> = Set(
        [
            EventType.ledgerCreated, .keyAdded, .keyRevoked, .policySet, .dataExtracted, .datasetBuilt, .modelTrained,
            .modelEvaluated, .modelRegistered, .modelApproved, .modelRejected, .modelDeployed, .modelRolledBack,
            .modelRetired, .runStarted, .runCompleted, .runFailed,
        ]
        .map(\.rawValue)
    )

    /// The key that must have signed `envelope`: the keyring's record for its one signature's keyid.
    ///
    /// The genesis event is signed by a key that it introduces, so at seq 0 the decoded `event`
    /// supplies the candidate keys. Throws `event.malformed` for an envelope without exactly one
    /// signature and `authority.unknownKey` for a keyid the log never added.
    public func signer(of envelope: Envelope, event: Event?) throws(LedgerError) -> KeyRecord {
        guard envelope.signatures.count == 1, let keyID = envelope.signatures.first?.keyID else {
            throw LedgerError(.malformed, "an entry carries exactly one signature, found \(envelope.signatures.count)")
        }
        if size == 0, let event, event.is(.ledgerCreated) {
            let keys = try Self.genesisKeys(of: event)
            if let record = keys.first(where: { $0.keyID == keyID }) { return record }
        }
        guard let record = keyring[keyID] else {
            throw LedgerError(.unknownKey, "keyid \(keyID.prefix(16))… is not in the log's keyring")
        }
        return record
    }

    /// Checks every rule except the signature itself: sequence, chain, origin, time, type, schema,
    /// the signer's status and role, and the type's own governance rules.
    public func check(_ signed: SignedEvent, signer: KeyRecord) throws(LedgerError) {
        try check(signed, signer: signer, dataValidated: false)
    }

    /// ``check(_:signer:)``, optionally skipping the schema check for data that the caller already
    /// validated with the same ``DataShape`` (the append path does that in parallel, up front).
    package func check(_ signed: SignedEvent, signer: KeyRecord, dataValidated: Bool) throws(LedgerError) {
        let event = signed.event
        guard event.seq == size else {
            throw LedgerError(.sequence, "expected seq \(size), found seq \(event.seq)")
        }
        // Byte for byte: a log id in another Unicode normalization is another log, as it is for every other reader.
        if let logID, !event.log.hasSameBytes(as: logID) {
            let lookAlike = event.log == logID
            let found = lookAlike ? event.log.escapingNonASCII : event.log
            let expected = lookAlike ? logID.escapingNonASCII : logID
            throw LedgerError(
                .foreignLog,
                "the event belongs to log \"\(found)\", not \"\(expected)\""
                    + (lookAlike ? " (the two differ in Unicode normalization; log ids compare byte for byte)" : "")
            )
        }
        guard event.prev == lastLeafHash else {
            throw LedgerError(.brokenChain, "prev does not equal the leaf hash of seq \(Int64(size) - 1)")
        }
        if let lastTime, event.time < lastTime {
            throw LedgerError(.timeBackwards, "time \(event.time) is before the previous event's \(lastTime)")
        }
        for item in event.subject where item.name.isEmpty || item.name.unicodeScalars.count > 256 {
            throw LedgerError(.schema, "a subject name must be 1 to 256 characters")
        }
        guard signed.envelope.signatures.first?.keyID.hasSameBytes(as: event.actor) == true,
            signer.keyID.hasSameBytes(as: event.actor)
        else {
            throw LedgerError(.malformed, "the signature's keyid is not the event's actor")
        }
        // The catalog finds the type by its bytes, and every catalog type is ASCII, so from here on the `switch`es on
        // `event.type` (here, in `ModelRules` and `RunRules`) cannot match a look-alike spelling.
        let kind = try EventCatalog.kind(of: event.type)
        if !dataValidated { try kind.shape.validate(event.data) }
        if let revokedAt = signer.revokedAt, revokedAt < event.seq {
            throw LedgerError(.revokedKey, "key \(signer.name) was revoked at seq \(revokedAt)")
        }
        if let role = kind.requiredRole, !signer.roles.contains(role) {
            throw LedgerError(
                .roleNotAllowed,
                "key \(signer.name) lacks the \(role.rawValue) role that \(event.type) requires"
            )
        }
        try checkRules(of: event)
    }

    /// Folds an event that passed ``check(_:signer:)`` and whose signature verified: its type is in the catalog,
    /// byte for byte, so the string `switch`es below match exact bytes.
    public mutating func apply(_ signed: SignedEvent) {
        let event = signed.event
        switch event.eventType {
        case .ledgerCreated:
            logID = event.log
            genesisLeafHash = signed.leafHash
            // check() already parsed these keys and this policy successfully.
            for record in (try? Self.genesisKeys(of: event)) ?? [] { keyring.add(record) }
            if let data = try? event.decode(LedgerCreated.self) { policy = Policy(data.policy) }
        case .keyAdded:
            if let data = try? event.decode(KeyAdded.self), let record = try? KeyRecord(data, addedAt: event.seq) {
                keyring.add(record)
            }
        case .keyRevoked:
            if let data = try? event.decode(KeyRevoked.self) { keyring.revoke(data.keyid, at: event.seq) }
        case .policySet:
            if let data = try? event.decode(PolicySet.self) { policy = Policy(data.policy) }
        default:
            break
        }
        models.apply(event)
        runs.apply(event)
        size = event.seq + 1
        lastLeafHash = signed.leafHash
        lastTime = event.time
    }

    private func checkRules(of event: Event) throws(LedgerError) {
        switch event.eventType {
        case .ledgerCreated:
            guard event.seq == 0 else { throw LedgerError(.policy, "ledger.created may only be the event at seq 0") }
            guard Self.isValidOrigin(event.log) else {
                throw LedgerError(
                    .schema,
                    "the log id must be 1 to 255 characters with no spaces, control characters or '+'"
                )
            }
        case _ where event.seq == 0:
            throw LedgerError(.policy, "the event at seq 0 must be ledger.created, found \(event.type)")
        case .keyAdded:
            let record = try KeyRecord(event.decode(KeyAdded.self), addedAt: event.seq)
            if keyring[record.keyID] != nil {
                throw LedgerError(.policy, "key \(record.keyID.prefix(16))… is already in the keyring")
            }
        case .keyRevoked:
            let keyID = try event.decode(KeyRevoked.self).keyid
            guard let record = keyring[keyID] else {
                throw LedgerError(.policy, "cannot revoke keyid \(keyID.prefix(16))…: it is not in the keyring")
            }
            guard record.isActive else { throw LedgerError(.policy, "key \(record.name) is already revoked") }
            for role in [Role.admin, .log]
            where record.roles.contains(role) && keyring.activeKeys(with: role).count == 1 {
                throw LedgerError(
                    .policy,
                    "cannot revoke the last active \(role.rawValue) key; add another \(role.rawValue) key first"
                )
            }
        case .noteAdded:
            for seq in try event.decode(NoteAdded.self).refs ?? [] where seq >= event.seq {
                throw LedgerError(.policy, "note refers to seq \(seq), which is not before seq \(event.seq)")
            }
        default:
            try runs.check(event)
            try models.check(event, policy: policy)
        }
    }

    /// A log origin as C2SP checkpoints require of key names: non-empty, no spaces, no `+`.
    public static func isValidOrigin(_ origin: String) -> Bool {
        !origin.isEmpty && origin.utf8.count <= 255
            && !origin.unicodeScalars.contains {
                $0.properties.isWhitespace || $0 == "+" || $0.value < 0x20 || $0.value == 0x7f
            }
    }

    /// The keys with the log role that were in force at tree size `size`: added before it and
    /// not revoked before it. These are the keys that may have signed a checkpoint of that size.
    public func logKeys(atSize size: UInt64) -> [KeyRecord] {
        keyring.records.filter { record in
            record.roles.contains(.log) && record.addedAt < size && (record.revokedAt.map { $0 >= size } ?? true)
        }
    }

    /// The keys a genesis event introduces; at least one must be an admin and sign it.
    static func genesisKeys(of event: Event) throws(LedgerError) -> [KeyRecord] {
        try EventCatalog.kind(of: event.type).shape.validate(event.data)
        var records: [KeyRecord] = []
        for key in try event.decode(LedgerCreated.self).keys {
            let record = try KeyRecord(key, addedAt: 0)
            if records.contains(where: { $0.keyID == record.keyID }) {
                throw LedgerError(.policy, "genesis names key \(record.keyID.prefix(16))… twice")
            }
            records.append(record)
        }
        guard records.contains(where: { $0.roles.contains(.admin) }) else {
            throw LedgerError(.policy, "genesis names no admin key")
        }
        return records
    }
}
