import Dispatch
public import LedgerCore
public import LedgerStore

/// Where the projections' read tables live: the SQLite store in `LedgerSQLite`, or ``InMemoryProjectionStore``.
///
/// The contract: ``save(_:changes:replacing:)`` writes the changed rows and the new head in one transaction, and
/// only if the saved head is still `replacing`, so two processes catching up at once never interleave their rows.
public protocol ProjectionStore: Sendable {
    /// The saved projections, or nil when nothing was saved yet.
    func load() async throws(LedgerError) -> Projections?

    /// Writes the rows `changes` names and `projections.head`, atomically.
    ///
    /// - Parameter previous: the head the caller loaded; nil when the caller rebuilt from scratch, which replaces
    ///   every row.
    /// - Throws: `store.conflict` when the saved head is no longer `previous`.
    func save(
        _ projections: Projections,
        changes: Projections.Changes,
        replacing previous: Projections.Head??
    ) async throws(LedgerError)

    /// Folds all of `log` from scratch and replaces every saved row; see ``ProjectionUpdater/rebuild(log:into:progress:)``.
    /// The default folds, then saves; a store may overlap the two.
    func rebuild(
        from log: any EventStore,
        progress: (@Sendable (UInt64, UInt64) -> Void)?
    ) async throws(LedgerError) -> Projections
}

extension ProjectionStore {
    public func rebuild(
        from log: any EventStore,
        progress: (@Sendable (UInt64, UInt64) -> Void)?
    ) async throws(LedgerError) -> Projections {
        let projections = try await ProjectionUpdater.fold(log, progress: progress)
        try await save(projections, changes: .all, replacing: .none)
        return projections
    }
}

/// Projections kept in memory, for tests and for a log that lives in memory.
public actor InMemoryProjectionStore: ProjectionStore {
    private var saved: Projections?

    public init() {}

    public func load() -> Projections? { saved }

    public func save(
        _ projections: Projections,
        changes: Projections.Changes,
        replacing previous: Projections.Head??
    ) throws(LedgerError) {
        if case .some(let expected) = previous, saved?.head != expected {
            throw LedgerError(.conflict, "the projections moved on since they were loaded")
        }
        saved = projections
    }
}

/// Keeps a ``ProjectionStore`` in step with a log.
public enum ProjectionUpdater {
    /// Entries read and folded per round trip to the log.
    static let chunkSize: UInt64 = 4096
    /// How often ``catchUp(log:into:)`` starts again after another process saved first. A conflict means that
    /// process made progress, so the bound only stops a pathological loop; writers appending one event at a time
    /// from several processes can collide a dozen times in a row.
    static let maxCatchUpAttempts = 100

    /// Folds the log's entries after the saved head into the saved projections, saves what changed and returns the
    /// result. A store with nothing saved is built from scratch.
    ///
    /// - Throws: `chain.checkpoint` when the saved head is not an entry of the log (the tables applied more entries
    ///   than the log now holds, or another entry at that seq): the log lost or changed entries the tables had
    ///   seen. The tables are then the last local evidence of it, so they are never rebuilt silently; `ledger
    ///   projections rebuild` (``rebuild(log:into:progress:)``) does it on request.
    @discardableResult
    public static func catchUp(
        log: any EventStore,
        into store: any ProjectionStore
    ) async throws(LedgerError) -> Projections {
        var attempt = 0
        while true {
            attempt += 1
            let saved = try await store.load()
            let size = try await log.size()
            guard var projections = saved, projections.head != nil else {
                return try await rebuild(log: log, into: store)
            }
            guard try await belongs(projections.head, to: log, size: size) else {
                let applied = projections.nextSeq
                throw LedgerError(
                    .checkpoint,
                    applied > size
                        ? "the read tables applied \(applied) entries, but the log has \(size): entries \(size)..<\(applied) "
                            + "were deleted; restore them (ledger restore --from EXPORT), or accept the shorter log with "
                            + "`ledger projections rebuild`"
                        : "the read tables' last entry (seq \(applied - 1)) is not the log's entry at that seq: the log was "
                            + "changed under them; verify it (ledger verify), then `ledger projections rebuild`"
                )
            }
            if projections.nextSeq == size { return projections }
            var changes = Projections.Changes()
            try await fold(log, from: projections.nextSeq, to: size, into: &projections, changes: &changes)
            do {
                try await store.save(projections, changes: changes, replacing: .some(saved?.head))
                return projections
            } catch  where error.code == .conflict && attempt < Self.maxCatchUpAttempts {
                continue  // another process saved first: start again from what it saved
            }
        }
    }

    /// Folds into `projections`, in memory, the log's entries after its head; saves nothing. For a reader that keeps
    /// its own copy current, such as `ledger serve`.
    public static func advance(_ projections: inout Projections, with log: any EventStore) async throws(LedgerError) {
        var changes = Projections.Changes(recording: false)
        try await fold(log, from: projections.nextSeq, to: try await log.size(), into: &projections, changes: &changes)
    }

    /// Folds the whole log from an empty state and replaces every saved row.
    ///
    /// - Parameter progress: called after each chunk with the number of entries folded so far and the total.
    @discardableResult
    public static func rebuild(
        log: any EventStore,
        into store: any ProjectionStore,
        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) async throws(LedgerError) -> Projections {
        try await store.rebuild(from: log, progress: progress)
    }

    /// Folds the log's first `size` entries (all of them by default) from an empty state, saving nothing.
    ///
    /// - Parameter folded: called after each chunk with the projections so far and the seqs just folded, for a
    ///   store that writes rows that can no longer change (lineage, drift) while the fold goes on.
    public static func fold(
        _ log: any EventStore,
        upTo size: UInt64? = nil,
        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil,
        folded: ((Projections, Range<UInt64>) -> Void)? = nil
    ) async throws(LedgerError) -> Projections {
        var projections = Projections()
        var changes = Projections.Changes(recording: false)
        var end = size ?? 0
        if size == nil { end = try await log.size() }
        try await fold(
            log,
            from: 0,
            to: end,
            into: &projections,
            changes: &changes,
            progress: progress,
            folded: folded
        )
        return projections
    }

    /// Folds the entries `from..<to`, reading a chunk ahead while decoding and folding the current one.
    static func fold(
        _ log: any EventStore,
        from start: UInt64,
        to end: UInt64,
        into projections: inout Projections,
        changes: inout Projections.Changes,
        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil,
        folded: ((Projections, Range<UInt64>) -> Void)? = nil
    ) async throws(LedgerError) {
        guard start < end else { return }
        // A background task reads and decodes the next chunk while this one is folded.
        func load(_ from: UInt64) -> Task<[(event: Event, leafHash: Hash256)], any Error> {
            Task { try decode(try await log.entries(in: from..<min(from + chunkSize, end))) }
        }
        var next: Task<[(event: Event, leafHash: Hash256)], any Error>? = load(start)
        var position = start
        while let pending = next {
            let events: [(event: Event, leafHash: Hash256)]
            do { events = try await pending.value } catch let error as LedgerError { throw error } catch {
                throw LedgerError(.storage, "cannot read the log: \(error)")
            }
            position += UInt64(events.count)
            next = position < end && !events.isEmpty ? load(position) : nil
            for event in events {
                try projections.apply(event.event, leafHash: event.leafHash, changes: &changes)
            }
            folded?(projections, (position - UInt64(events.count))..<position)
            // Freeing a chunk's events is real work: leave it to another thread rather than the fold.
            ProjectionUpdater.release(events)
            progress?(position - start, end - start)
        }
    }

    static let releaser = DispatchQueue(label: "modelledger.projections.release", qos: .utility)

    /// Drops `events` on a background queue, which then most likely holds the last reference to them.
    static func release(_ events: [(event: Event, leafHash: Hash256)]) {
        releaser.async { withExtendedLifetime(events) {} }
    }

    /// Decodes a chunk of entries, in parallel.
    public static func decode(_ entries: [LogEntry]) throws(LedgerError) -> [(event: Event, leafHash: Hash256)] {
        // The leaf hash from the leaf bytes, not from the store's unchecked column.
        let decoded = ParallelMap.map(entries.count) { index -> Result<(Event, Hash256), LedgerError> in
            do throws(LedgerError) {
                let signed = try SignedEvent(leaf: entries[index].leaf)
                return .success((signed.event, signed.leafHash))
            } catch {
                return .failure(error)
            }
        }
        var events: [(event: Event, leafHash: Hash256)] = []
        events.reserveCapacity(entries.count)
        for (entry, result) in zip(entries, decoded) {
            switch result {
            case .success(let (event, leafHash)): events.append((event, leafHash))
            case .failure(let error):
                throw LedgerError(error.code, "the log entry at seq \(entry.seq) does not decode: \(error.reason)")
            }
        }
        return events
    }

    /// Whether a saved head is an entry of `log`: same seq, same leaf hash.
    private static func belongs(
        _ head: Projections.Head?,
        to log: any EventStore,
        size: UInt64
    ) async throws(LedgerError) -> Bool {
        guard let head else { return size == 0 }
        guard head.seq < size, let entry = try await log.entries(in: head.seq..<(head.seq + 1)).first else {
            return false
        }
        return MerkleTree.leafHash(entry.leaf) == head.leafHash
    }
}

/// Keeps a ``ProjectionStore`` in step with the appends of one process, holding the projections in memory between
/// batches so that each append costs only its own rows rather than a load of every row. When it holds nothing yet,
/// or another process moved the tables on, it catches them up with the log instead.
public actor ProjectionFollower {
    private let log: any EventStore
    private let store: any ProjectionStore
    private var current: Projections?

    public init(log: any EventStore, store: any ProjectionStore) {
        self.log = log
        self.store = store
    }

    /// Brings the read tables up to the log now, before any append: throws `chain.checkpoint`, as
    /// ``ProjectionUpdater/catchUp(log:into:)`` does, when they applied entries the log no longer holds.
    public func catchUp() async throws(LedgerError) {
        current = try await ProjectionUpdater.catchUp(log: log, into: store)
    }

    /// The projections at the log's head: what this follower holds, after catching up with any entries another
    /// process appended since.
    public func current() async throws(LedgerError) -> Projections {
        let size = try await log.size()
        if let projections = current, projections.nextSeq == size { return projections }
        let projections = try await ProjectionUpdater.catchUp(log: log, into: store)
        current = projections
        return projections
    }

    /// Folds `batch`, which was just appended to the log, and saves the rows it changed.
    public func apply(_ batch: [SignedEvent]) async throws(LedgerError) {
        guard var projections = current, let head = projections.head, let first = batch.first?.event,
            first.seq == head.seq + 1, first.prev == head.leafHash
        else {
            // The log already holds `batch`, so catching up folds it.
            current = nil
            current = try await ProjectionUpdater.catchUp(log: log, into: store)
            return
        }
        var changes = Projections.Changes()
        for signed in batch { try projections.apply(signed.event, leafHash: signed.leafHash, changes: &changes) }
        do {
            try await store.save(projections, changes: changes, replacing: .some(head))
            current = projections
        } catch  where error.code == .conflict {
            current = try await ProjectionUpdater.catchUp(log: log, into: store)
        }
    }
}
