import Foundation
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

    /// A draft of `data`'s kind, with its data encoded as that kind always encodes it.
    public init<Data: EventData>(_ data: Data, subject: [Subject] = []) throws(LedgerError) {
        self.init(type: Data.type.rawValue, subject: subject, data: try data.data())
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
    private var observers: [@Sendable ([SignedEvent]) async -> Void] = []

    /// The head record this ledger keeps up to date, and the Merkle right edge of the entries it has seen.
    private var head: (file: HeadRecordFile, frontier: MerkleFrontier)?
    /// Set when the head record could not be written; the append it followed still stands.
    public private(set) var headRecordWarning: String?
    /// What ``open(store:clock:headRecord:)`` found worth telling a person, such as a head record it had to rebuild.
    public nonisolated let openWarnings: [String]

    private init(store: any EventStore, clock: any LedgerClock, state: LedgerState, openWarnings: [String] = []) {
        self.store = store
        self.clock = clock
        self.state = state
        self.openWarnings = openWarnings
    }

    /// Opens an existing log: reads every entry once, in pages, and folds the events that change the rule state.
    ///
    /// Every type, and so every authority decision, comes from the signed envelope bytes, never from a store's
    /// index columns (which an edited database could change to hide a `key.revoked`).
    ///
    /// - Parameter headRecord: the workspace's ``HeadRecordFile``. With one, the log must hold at least the
    ///   record's entries and match its root, or the open fails (`chain.checkpoint`), so that no append can paper
    ///   over a deleted tail; every later append updates the record.
    public static func open(
        store: any EventStore,
        clock: any LedgerClock,
        headRecord: HeadRecordFile? = nil
    ) async throws(LedgerError) -> Ledger {
        let record = try headRecord?.load()
        let size = try await store.size()
        guard size > 0 else {
            if let record { throw Self.shorterThanRecord(size: 0, record: record) }
            throw LedgerError(.malformed, "the log is empty: it has no genesis event")
        }
        if let record, size < record.size { throw Self.shorterThanRecord(size: size, record: record) }
        // The kept checkpoints are checked too: a missing head record is rebuilt from them. Their sizes are read from
        // the signed notes, never from the table's size column; notes that do not parse or verify are skipped below.
        let kept = try await store.checkpoints()
        var signedSizes: Set<UInt64> = []
        for (_, note) in kept {
            if let text = try? SignedNote.parse(note).text, let checkpoint = try? Checkpoint(text: text) {
                signedSizes.insert(checkpoint.size)
            }
        }
        var headsAtCheckpoints: [UInt64: (frontier: MerkleFrontier, last: Hash256)] = [:]
        var state = LedgerState()
        var frontier = MerkleFrontier()
        var cursor: UInt64 = 0
        while cursor < size {
            let page = try await store.entries(in: cursor..<min(size, cursor + Self.pageSize))
            guard !page.isEmpty else { break }
            // Decoding (and hashing) is independent per entry: it runs on every core; the fold stays sequential.
            let decoded = ParallelMap.map(page.count) { index -> Result<SignedEvent, LedgerError> in
                do throws(LedgerError) {
                    return .success(try SignedEvent(leaf: page[index].leaf))
                } catch {
                    return .failure(error)
                }
            }
            for (entry, result) in zip(page, decoded) {
                guard entry.seq == UInt64(frontier.size) else {
                    throw LedgerError(.storage, "the log has no entry at seq \(frontier.size)")
                }
                let signed = try result.get()
                frontier.append(signed.leafHash)
                let count = UInt64(frontier.size)
                if let record, count == record.size,
                    frontier.root != record.root || signed.leafHash != record.lastLeafHash
                {
                    throw Self.inconsistentWithRecord(record)
                }
                if signedSizes.contains(count) { headsAtCheckpoints[count] = (frontier, signed.leafHash) }
                guard signed.event.seq == entry.seq else {
                    throw LedgerError(.storage, "the entry stored at seq \(entry.seq) is event \(signed.event.seq)")
                }
                // The head is folded whatever its type: the rules need its hash and time.
                if LedgerState.statefulTypes.contains(signed.event.type) || entry.seq == size - 1 {
                    state.apply(signed)
                }
            }
            cursor += UInt64(page.count)
        }
        guard UInt64(frontier.size) == size else {
            throw LedgerError(.storage, "the log says it has \(size) entries but holds \(frontier.size)")
        }
        var largestCheckpoint: Checkpoint?
        for (column, note) in kept {
            // A row whose note does not verify under a log key is not a checkpoint of this log: it binds nothing.
            guard let checkpoint = try? Verifier.authenticate(checkpoint: note, state: state).checkpoint else {
                continue
            }
            guard checkpoint.size == column else {
                throw LedgerError(
                    .checkpoint,
                    "the checkpoints table was edited: the row for size \(column) holds a checkpoint signed for size "
                        + "\(checkpoint.size)"
                )
            }
            guard let head = headsAtCheckpoints[checkpoint.size] else {
                throw LedgerError(
                    .checkpoint,
                    "the log has \(size) entries, but a kept checkpoint signed \(checkpoint.size): entries "
                        + "\(size)..<\(checkpoint.size) were deleted; nothing is appended until they are restored "
                        + "(ledger restore --from EXPORT)"
                )
            }
            guard head.frontier.root == checkpoint.root else {
                throw LedgerError(
                    .checkpoint,
                    "the log's first \(checkpoint.size) entries do not have the root of the kept checkpoint of that "
                        + "size: they were changed after it was signed"
                )
            }
            if checkpoint.size > largestCheckpoint?.size ?? 0 { largestCheckpoint = checkpoint }
        }
        var warnings: [String] = []
        var rebuilt: HeadRecord?
        if let headRecord, record == nil, let logID = state.logID {
            // Rebuilt from the largest kept checkpoint, never from the log as it is now: that would vouch for a log
            // whose tail was deleted together with the record.
            if let largestCheckpoint, let head = headsAtCheckpoints[largestCheckpoint.size] {
                rebuilt = HeadRecord(logID: logID, frontier: head.frontier, lastLeafHash: head.last)
                warnings.append(
                    "no head record at \(headRecord.path): rebuilt from the kept checkpoint of size "
                        + "\(largestCheckpoint.size), which the log matches"
                )
            } else {
                warnings.append(
                    "no head record at \(headRecord.path) and no kept checkpoint: nothing here shows whether entries "
                        + "were deleted before now (sign one with `ledger checkpoint`); the next append writes the record"
                )
            }
        }
        let ledger = Ledger(store: store, clock: clock, state: state, openWarnings: warnings)
        if let headRecord, let logID = state.logID {
            if let record, Array(record.logID.utf8) != Array(logID.utf8) {
                throw LedgerError(
                    .trustAnchor,
                    "the head record \(headRecord.path) is for log \"\(record.logID)\", not \"\(logID)\""
                )
            }
            if let rebuilt { try headRecord.save(rebuilt) }
            // A record that exists and lags (a crash after a commit, another host's appends) is brought to the head
            // it was just checked against; a missing one is written by the next append only.
            let head = HeadRecord(logID: logID, frontier: frontier, lastLeafHash: state.lastLeafHash)
            await ledger.track(head, in: headRecord, save: record.map { $0.size != head.size } ?? false)
        }
        return ledger
    }

    static let pageSize: UInt64 = 4096

    /// Refuses a new event whose leaf would exceed ``Envelope/maximumBundledLeafBytes`` (65,535 bytes, the most a
    /// C2SP tlog-tiles entry bundle holds in one entry), and so also ``Envelope/maximumLeafBytes``, which every export
    /// line must stay within for `verify --from` and `restore`. Throws `invalid.argument` naming the event type and
    /// the size. The schemas' bounds keep every valid event well within it; this is the last guard.
    static func checkLeafSize(_ signed: SignedEvent) throws(LedgerError) {
        let limit = min(Envelope.maximumBundledLeafBytes, Envelope.maximumLeafBytes)
        guard signed.leaf.count <= limit else {
            throw LedgerError(
                .invalidArgument,
                "the \(signed.event.type.prefix(64)) event's entry would be \(signed.leaf.count) bytes, more than the "
                    + "\(limit) a new log entry may hold (a C2SP tlog-tiles entry bundle's limit)"
            )
        }
    }

    /// Refuses data or subjects outside the bounds of a new event (``DataShape/Bounds/newEvent``), with
    /// `event.schema`: the verifier keeps accepting what format v1 accepted before, but nothing new exceeds them.
    static func checkNewEventBounds(type: String, data: JSONValue, subject: [Subject]) throws(LedgerError) {
        try EventCatalog.kind(of: type).shape.validate(data, bounds: .newEvent)
        try EventCatalog.validateNewSubjects(subject)
    }

    static func shorterThanRecord(size: UInt64, record: HeadRecord) -> LedgerError {
        LedgerError(
            .checkpoint,
            "the log has \(size) entries, but \(record.size) were committed (head record, root \(record.root.hex)): "
                + "entries \(size)..<\(record.size) were deleted; nothing is appended until they are restored "
                + "(ledger restore --from EXPORT)"
        )
    }

    static func inconsistentWithRecord(_ record: HeadRecord) -> LedgerError {
        LedgerError(
            .checkpoint,
            "the log's first \(record.size) entries do not have the root the head record holds "
                + "(\(record.root.hex)): they were changed after they were committed"
        )
    }

    private func startTracking(in file: HeadRecordFile) {
        head = (file, MerkleFrontier())
    }

    private func track(_ record: HeadRecord, in file: HeadRecordFile, save: Bool) {
        head = (file, record.frontier)
        if save { saveHead() }
    }

    /// Extends the tracked frontier with entries the store now holds, in seq order from the frontier's size.
    private func advanceHead(_ leafHashes: some Sequence<Hash256>) {
        guard var tracked = head else { return }
        for hash in leafHashes { tracked.frontier.append(hash) }
        head = tracked
    }

    /// Writes the head record for the state this ledger has reached. A failure is kept as a warning: the entries are
    /// durable, and a lagging record is allowed.
    private func saveHead() {
        guard let (file, frontier) = head, UInt64(frontier.size) == state.size, let logID = state.logID else { return }
        do {
            try file.save(HeadRecord(logID: logID, frontier: frontier, lastLeafHash: state.lastLeafHash))
        } catch {
            headRecordWarning = error.reason
        }
    }

    /// Writes the genesis event of a new log, signed by `admin`, which must be among `keys` with the admin role.
    public static func create(
        store: any EventStore,
        clock: any LedgerClock,
        logID: String,
        keys: [KeyRecord],
        policy: Policy = Policy(),
        signedBy admin: SigningKey,
        headRecord: HeadRecordFile? = nil
    ) async throws(LedgerError) -> Ledger {
        guard try await store.size() == 0 else {
            throw LedgerError(.invalidArgument, "the store already holds a log")
        }
        let ledger = Ledger(store: store, clock: clock, state: LedgerState())
        if let headRecord { await ledger.startTracking(in: headRecord) }
        let data: JSONValue = .object(["keys": .array(keys.map(\.jsonValue)), "policy": policy.jsonValue])
        _ = try await ledger.append(
            [EventDraft(type: EventType.ledgerCreated.rawValue, data: data)],
            signedBy: admin,
            logID: logID
        )
        return ledger
    }

    /// Calls `observer` with every batch this ledger appends, after it is durable and before `append` returns: how
    /// read models such as the projections stay in step. An observer cannot refuse or undo an append.
    public func onAppend(_ observer: @escaping @Sendable ([SignedEvent]) async -> Void) {
        observers.append(observer)
    }

    private func notify(_ batch: [SignedEvent]) async {
        for observer in observers { await observer(batch) }
    }

    /// Signs and checks `drafts` as ``append(_:signedBy:)`` would, against the log as it is now, without storing
    /// them: for envelopes that are signed here and appended elsewhere or later (`ledger approve --offline`).
    ///
    /// Each returned event is valid only as long as the log does not move on: it carries the next seq and `prev`.
    public func sign(_ drafts: [EventDraft], signedBy key: SigningKey) throws(LedgerError) -> [SignedEvent] {
        let time = max(clock.now(), state.lastTime ?? Timestamp(millisecondsSinceEpoch: 0))
        let prepared = try PreparedDraft.prepare(
            drafts,
            logID: state.logID ?? "",
            firstSeq: state.size,
            time: time,
            actor: key.keyID
        )
        return try BatchSigner(state: state, key: key).signAll(prepared).1
    }

    /// Signs and appends `drafts` as one atomic batch. Every event is checked first; if any is
    /// refused, nothing is written.
    ///
    /// - Returns: the stored entries, in order.
    @discardableResult
    public func append(_ drafts: [EventDraft], signedBy key: SigningKey) async throws(LedgerError) -> [SignedEvent] {
        try await append(drafts, signedBy: key, logID: nil)
    }

    /// Signs and appends, as one atomic batch, the drafts `build` makes from the state the batch is judged
    /// against. When another writer appended first, the ledger catches up and calls `build` again, so drafts that
    /// name the seq they will get, or a count the log keeps (a version number), stay right.
    @discardableResult
    public func append(
        signedBy key: SigningKey,
        building build: (LedgerState) throws(LedgerError) -> [EventDraft]
    ) async throws(LedgerError) -> [SignedEvent] {
        try await append(signedBy: key, logID: nil, building: build)
    }

    private func append(
        _ drafts: [EventDraft],
        signedBy key: SigningKey,
        logID: String?
    ) async throws(LedgerError) -> [SignedEvent] {
        try await append(signedBy: key, logID: logID) { _ throws(LedgerError) in drafts }
    }

    private func append(
        signedBy key: SigningKey,
        logID: String?,
        building build: (LedgerState) throws(LedgerError) -> [EventDraft]
    ) async throws(LedgerError) -> [SignedEvent] {
        var attempt = 0
        while true {
            attempt += 1
            let drafts = try build(state)
            guard !drafts.isEmpty else { return [] }
            // One time for the whole batch, never before the log's last event.
            let time = max(clock.now(), state.lastTime ?? Timestamp(millisecondsSinceEpoch: 0))
            let prepared = try PreparedDraft.prepare(
                drafts,
                logID: state.logID ?? logID ?? "",
                firstSeq: state.size,
                time: time,
                actor: key.keyID
            )
            do {
                if prepared.count == 1 {
                    // One event: judged against the state in place, so that applying it after the store has it
                    // mutates the only copy instead of duplicating the rules' tables on every append.
                    let signed = try BatchSigner.sign(prepared[0], against: state, with: key)
                    try await store.append([LogEntry(signed)], expecting: state.size)
                    try await settle(after: [signed]) { $0.apply(signed) }
                    await notify([signed])
                    return [signed]
                }
                let signer = BatchSigner(state: state, key: key)
                let (next, batch): (LedgerState, [SignedEvent])
                // Streaming pays for a thread and hand-offs; it wins only for large batches.
                if prepared.count >= Self.streamingThreshold, let streaming = store as? any StreamingEventStore {
                    (next, batch) = try await signer.signWhileStoring(prepared, into: streaming)
                } else {
                    (next, batch) = try signer.signAll(prepared)
                    try await store.append(batch.map(LogEntry.init), expecting: state.size)
                }
                try await settle(after: batch) { $0 = next }
                await notify(batch)
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
            try Self.checkLeafSize(signed)
            // A time far ahead would drag every later event's time with it (times never go back).
            let latest = clock.now().millisecondsSinceEpoch + Self.allowedClockSkewMilliseconds
            guard signed.event.time.millisecondsSinceEpoch <= latest else {
                throw LedgerError(
                    .timeBackwards,
                    "the envelope's time \(signed.event.time) is ahead of this clock by more than 5 minutes"
                )
            }
            let signer = try state.signer(of: envelope, event: signed.event)
            guard envelope.isSigned(by: signer.publicKey) else {
                throw LedgerError(.badSignature, "the envelope's signature does not verify under key \(signer.name)")
            }
            try state.check(signed, signer: signer)
            try Self.checkNewEventBounds(
                type: signed.event.type,
                data: signed.event.data,
                subject: signed.event.subject
            )
            do {
                try await store.append([LogEntry(signed)], expecting: state.size)
                try await settle(after: [signed]) { $0.apply(signed) }
                await notify([signed])
                return signed
            } catch  where error.code == .conflict && attempt < Self.maxAttempts {
                try await catchUp()
            }
        }
    }

    /// Brings the state past `batch`, which the store now holds. While the store wrote it, another append on this
    /// actor may have run (actors are reentrant at `await`), hit the conflict, caught up and so folded `batch`
    /// already: applying it again would count its approvals twice. So `update` runs only if the state is still
    /// where the batch starts; otherwise the state catches up from the store.
    ///
    /// Then the head record, if this ledger keeps one, is brought to the new head.
    private func settle(after batch: [SignedEvent], _ update: (inout LedgerState) -> Void) async throws(LedgerError) {
        if state.size == batch.first?.event.seq {
            update(&state)
            advanceHead(batch.map(\.leafHash))
        } else {
            try await catchUp()
        }
        saveHead()
    }

    /// Folds the entries other writers appended since this ledger last looked.
    ///
    /// - Throws: `chain.checkpoint` when the log is now shorter than what this ledger already folded: entries were
    ///   deleted underneath it, and appending would reuse their seqs.
    public func catchUp() async throws(LedgerError) {
        let size = try await store.size()
        guard size >= state.size else {
            throw LedgerError(
                .checkpoint,
                "the log has \(size) entries, but this process already read \(state.size): entries were deleted"
            )
        }
        guard size > state.size else { return }
        // Another catch-up on this actor may have folded some of these while the store read them: fold each entry
        // only when it is the next one.
        for entry in try await store.entries(in: state.size..<size) where entry.seq == state.size {
            let signed = try SignedEvent(leaf: entry.leaf)
            guard signed.event.seq == entry.seq else {
                throw LedgerError(.storage, "the entry stored at seq \(entry.seq) is event \(signed.event.seq)")
            }
            state.apply(signed)
            advanceHead(CollectionOfOne(signed.leafHash))
        }
    }

    static let maxAttempts = 1000
    /// How far ahead of the local clock an envelope signed elsewhere may be dated.
    static let allowedClockSkewMilliseconds: Int64 = 5 * 60 * 1000
    static let streamingThreshold = 128
}

/// A draft whose type and data were checked, and whose signed bytes were built (all but `prev`),
/// ahead of the sequential signing loop.
struct PreparedDraft: Sendable {
    let event: Event
    let template: EventTemplate

    /// Checks every draft's type and schema and builds its event and PAE template, in parallel:
    /// none of this depends on the chain, so it stays off the sequential signing path. The events
    /// get seqs from `firstSeq` on, `time`, and a placeholder `prev` that signing fills in.
    static func prepare(
        _ drafts: [EventDraft],
        logID: String,
        firstSeq: UInt64,
        time: Timestamp,
        actor: KeyID
    ) throws(LedgerError) -> [PreparedDraft] {
        let results = ParallelMap.map(drafts.count) { index -> Result<PreparedDraft, LedgerError> in
            let draft = drafts[index]
            do throws(LedgerError) {
                try Ledger.checkNewEventBounds(type: draft.type, data: draft.data, subject: draft.subject)
                let event = Event(
                    log: logID,
                    seq: firstSeq + UInt64(index),
                    prev: .zero,
                    time: time,
                    type: draft.type,
                    actor: actor,
                    subject: draft.subject,
                    data: draft.data
                )
                let template = event.preAuthenticationTemplate(encodedData: try Event.encode(draft.data))
                return .success(PreparedDraft(event: event, template: template))
            } catch {
                // In a batch, say which event was refused.
                guard drafts.count > 1 else { return .failure(error) }
                return .failure(LedgerError(error.code, "event \(index + 1) of \(drafts.count): \(error.reason)"))
            }
        }
        var prepared: [PreparedDraft] = []
        prepared.reserveCapacity(results.count)
        for result in results {
            switch result {
            case .success(let draft): prepared.append(draft)
            case .failure(let error): throw error
            }
        }
        return prepared
    }
}

/// The sequential part of an append: builds, signs and checks each event against the state the
/// previous one left, exactly as the verifier will replay it.
struct BatchSigner: Sendable {
    var state: LedgerState
    let key: SigningKey

    mutating func sign(_ prepared: PreparedDraft) throws(LedgerError) -> SignedEvent {
        let signed = try Self.sign(prepared, against: state, with: key)
        state.apply(signed)
        return signed
    }

    /// Chains `prepared` to `state`'s head, signs it with `key`, and checks it against `state`, which it leaves as
    /// it is: the caller applies the event once it is stored.
    static func sign(
        _ prepared: PreparedDraft,
        against state: LedgerState,
        with key: SigningKey
    ) throws(LedgerError) -> SignedEvent {
        var event = prepared.event
        event.prev = state.lastLeafHash
        let signed = try SignedEvent(signing: event, template: prepared.template, with: key)
        try Ledger.checkLeafSize(signed)
        let record = try state.signer(of: signed.envelope, event: event)
        guard record.publicKey == key.publicKey else {
            throw LedgerError(.unknownKey, "the signing key is not the keyring's key for its keyid")
        }
        try state.check(signed, signer: record, dataValidated: true)
        return signed
    }

    /// Signs every draft, then returns the new state and the batch.
    func signAll(_ drafts: [PreparedDraft]) throws(LedgerError) -> (LedgerState, [SignedEvent]) {
        var signer = self
        var batch: [SignedEvent] = []
        batch.reserveCapacity(drafts.count)
        for draft in drafts { batch.append(try signer.sign(draft)) }
        return (signer.state, batch)
    }

    /// Signs on a thread of its own while `store` writes what is already signed, in one
    /// transaction. If signing refuses an event, the store rolls the whole batch back.
    func signWhileStoring(
        _ drafts: [PreparedDraft],
        into store: any StreamingEventStore
    ) async throws(LedgerError) -> (LedgerState, [SignedEvent]) {
        let stream = EntryStream()
        let start = self
        let producer = Task.detached { () -> Result<(LedgerState, [SignedEvent]), LedgerError> in
            await withCheckedContinuation { continuation in
                // A thread outside Swift's cooperative pool: it blocks while the stream is full.
                Thread.detachNewThread {
                    continuation.resume(returning: start.produce(drafts, into: stream))
                }
            }
        }
        do {
            try await store.append(from: stream, expecting: state.size)
        } catch {
            stream.cancel()
            // A refused event explains the rollback better than the store's echo of it.
            if case .failure(let signingError) = await producer.value { throw signingError }
            throw error
        }
        return try await producer.value.get()
    }

    private func produce(
        _ drafts: [PreparedDraft],
        into stream: EntryStream
    ) -> Result<(LedgerState, [SignedEvent]), LedgerError> {
        var signer = self
        var batch: [SignedEvent] = []
        batch.reserveCapacity(drafts.count)
        do throws(LedgerError) {
            for draft in drafts {
                let signed = try signer.sign(draft)
                batch.append(signed)
                guard stream.send(LogEntry(signed)) else { break }
            }
            stream.finish()
            return .success((signer.state, batch))
        } catch {
            stream.finish(throwing: error)
            return .failure(error)
        }
    }
}
