public import LedgerCore

/// Where a log's entries live. Implementations: ``InMemoryEventStore`` here, the SQLite store in
/// `LedgerSQLite`; every one must pass `EventStoreConformance` in `LedgerTesting`.
///
/// The contract:
/// - Entries are append-only. Nothing is ever updated or deleted, and a store SHOULD make the
///   database itself refuse it.
/// - ``append(_:expecting:)`` is atomic and, once it returns, durable: either every entry of the
///   batch is stored or none is. A crash during the call leaves the log as it was before or after.
/// - Appends use optimistic concurrency: the caller names the size it expects the log to have. If
///   another writer appended first, the call throws `store.conflict` and stores nothing, so two
///   writers never fork the log or leave a gap.
/// - The store checks structure only (contiguous seq, unique leaf hash). Authority and signatures
///   are checked by ``Ledger`` before appending and by the `Verifier` afterwards.
public protocol EventStore: Sendable {
    /// The number of entries, which is also the next seq.
    func size() async throws(LedgerError) -> UInt64

    /// Appends `entries` (contiguous, starting at seq `expectedSize`) in one transaction.
    ///
    /// - Throws: `store.conflict` if the log's size is not `expectedSize`; `argument.invalid` if
    ///   the batch is not contiguous from `expectedSize`; `store.failure` if storage fails.
    func append(_ entries: [LogEntry], expecting expectedSize: UInt64) async throws(LedgerError)

    /// The entries with seq in `range`, in seq order; a range past the end is clipped.
    func entries(in range: Range<UInt64>) async throws(LedgerError) -> [LogEntry]

    /// The leaf bytes of seq `0..<size`, in order: all the verifier needs.
    func leaves(upTo size: UInt64) async throws(LedgerError) -> [[UInt8]]

    /// The leaf hashes of seq `0..<size`, in order.
    func leafHashes(upTo size: UInt64) async throws(LedgerError) -> [Hash256]

    /// Keeps a signed checkpoint (C2SP note text) of `size` entries. Keeping a second
    /// checkpoint for the same size replaces nothing and is not an error.
    func keepCheckpoint(_ note: String, size: UInt64) async throws(LedgerError)

    /// The kept checkpoints, smallest size first.
    func checkpoints() async throws(LedgerError) -> [(size: UInt64, note: String)]
}

extension EventStore {
    /// Every entry, in seq order.
    public func allEntries() async throws(LedgerError) -> [LogEntry] {
        try await entries(in: 0..<(try await size()))
    }

    /// The events whose type is in `types`, in seq order, decoded from the envelope bytes of every entry (read in
    /// pages).
    ///
    /// A store's `type` column is an index for people running SQL, never an answer: an edited database could change
    /// it to hide an event, so nothing that decides or filters reads it.
    public func events(ofTypes types: Set<String>) async throws(LedgerError) -> [SignedEvent] {
        let size = try await size()
        var events: [SignedEvent] = []
        var cursor: UInt64 = 0
        while cursor < size {
            let page = try await entries(in: cursor..<min(size, cursor + 4096))
            guard !page.isEmpty else { break }
            for entry in page {
                let signed = try SignedEvent(leaf: entry.leaf)
                if types.contains(signed.event.type) { events.append(signed) }
            }
            cursor += UInt64(page.count)
        }
        return events
    }

    /// Checks a batch before it is stored: contiguous seqs starting at `expectedSize`.
    public func checkContiguous(_ entries: [LogEntry], from expectedSize: UInt64) throws(LedgerError) {
        for (offset, entry) in entries.enumerated() where entry.seq != expectedSize + UInt64(offset) {
            throw LedgerError(
                .invalidArgument,
                "batch entry \(offset) has seq \(entry.seq), expected \(expectedSize + UInt64(offset))"
            )
        }
    }
}

/// A store that can tell a follower when any process appended, so that `ledger events --follow` and `ledger serve`
/// see new events at once instead of at their next poll. Followers still poll as well: a signal is a hint to
/// re-read ``EventStore/size()``, never the only way to learn of an append.
public protocol AppendSignalling: EventStore {
    /// Yields soon after each append commits (several appends may give one signal), and when the store's
    /// connection to its server is lost or restored. The stream ends when its consumer stops iterating.
    func appendSignals() -> AsyncStream<Void>
}
