import Foundation
public import LedgerCore

/// A bounded, one-shot channel of entries from a producing thread (the signer) to a store's
/// writer, so that signing the next events overlaps with writing the previous ones.
///
/// Exactly one producer calls ``send(_:)`` then ``finish(throwing:)``; exactly one consumer calls
/// ``next()`` until it returns nil or throws, and may ``cancel()`` to stop the producer early.
/// Both sides block while they wait, so neither may run on a Swift concurrency thread that others
/// depend on: the ``Ledger`` runs the producer on its own thread.
public final class EntryStream: @unchecked Sendable {
    private let condition = NSCondition()
    // Shared state, guarded by `condition`.
    private var pending: [LogEntry] = []
    private var finished = false
    private var failure: LedgerError?
    private var cancelled = false
    private var consumerWaiting = false
    private var producerWaiting = false
    // The consumer's own batch, touched only by the consumer thread.
    private var taken: [LogEntry] = []
    private var takenIndex = 0
    private let capacity: Int
    /// Entries handed over per wake-up: waking a thread costs about as much as signing an event,
    /// so the consumer is woken for batches, not for each entry.
    private let handOff: Int

    public init(capacity: Int = 4096, handOff: Int = 64) {
        self.capacity = max(1, capacity)
        self.handOff = max(1, min(handOff, capacity))
    }

    /// Hands `entry` to the consumer, waiting while the buffer is full. Returns false, dropping
    /// the entry, once the consumer cancelled.
    @discardableResult
    public func send(_ entry: LogEntry) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while pending.count >= capacity && !cancelled {
            producerWaiting = true
            condition.wait()
            producerWaiting = false
        }
        guard !cancelled else { return false }
        pending.append(entry)
        if consumerWaiting && pending.count >= handOff { condition.broadcast() }
        return true
    }

    /// Ends the stream; with an error, the consumer's ``next()`` throws it and the store must
    /// store nothing.
    public func finish(throwing error: LedgerError? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next entry, nil at the end, or the producer's error.
    public func next() throws(LedgerError) -> LogEntry? {
        if takenIndex < taken.count {
            defer { takenIndex += 1 }
            return taken[takenIndex]
        }
        condition.lock()
        defer { condition.unlock() }
        while pending.count < handOff && !finished {
            consumerWaiting = true
            condition.wait()
            consumerWaiting = false
        }
        if finished, let failure { throw failure }
        guard !pending.isEmpty else { return nil }
        swap(&taken, &pending)
        pending.removeAll(keepingCapacity: true)
        takenIndex = 1
        if producerWaiting { condition.broadcast() }
        return taken[0]
    }

    /// Stops the producer: its pending and later ``send(_:)`` calls return false.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// Reads every entry (for stores that cannot write while reading).
    public func drain() throws(LedgerError) -> [LogEntry] {
        var entries: [LogEntry] = []
        while let entry = try next() { entries.append(entry) }
        return entries
    }
}

/// A store that can write a batch while it is still being produced, in one transaction.
public protocol StreamingEventStore: EventStore {
    /// Appends the entries of `stream` atomically, as ``EventStore/append(_:expecting:)`` does:
    /// it checks `expectedSize` first (throwing `store.conflict` before consuming anything), then
    /// writes entries as they arrive, and commits only if the stream ends without an error. On any
    /// failure it stores nothing and cancels the stream.
    func append(from stream: EntryStream, expecting expectedSize: UInt64) async throws(LedgerError)
}
