public import LedgerCore

/// An ``EventStore`` in memory: for tests, and the reference the conformance suite is written against.
public actor InMemoryEventStore: EventStore {
    private var log: [LogEntry] = []
    private var leafHashes: Set<Hash256> = []
    private var kept: [UInt64: String] = [:]

    public init() {}

    public func size() -> UInt64 { UInt64(log.count) }

    public func append(_ entries: [LogEntry], expecting expectedSize: UInt64) throws(LedgerError) {
        guard expectedSize == UInt64(log.count) else {
            throw LedgerError(.conflict, "expected the log to have \(expectedSize) entries, it has \(log.count)")
        }
        try checkContiguous(entries, from: expectedSize)
        var batchHashes: Set<Hash256> = []
        for entry in entries {
            guard !leafHashes.contains(entry.leafHash), batchHashes.insert(entry.leafHash).inserted else {
                throw LedgerError(.invalidArgument, "entry \(entry.seq) repeats a leaf already in the log")
            }
        }
        log.append(contentsOf: entries)
        leafHashes.formUnion(batchHashes)
    }

    public func entries(in range: Range<UInt64>) -> [LogEntry] {
        let upper = min(Int(clamping: range.upperBound), log.count)
        let lower = min(Int(clamping: range.lowerBound), upper)
        return Array(log[lower..<upper])
    }

    public func leaves(upTo size: UInt64) -> [[UInt8]] {
        log.prefix(Int(clamping: size)).map(\.leaf)
    }

    public func leafHashes(upTo size: UInt64) -> [Hash256] {
        log.prefix(Int(clamping: size)).map(\.leafHash)
    }

    public func keepCheckpoint(_ note: String, size: UInt64) {
        if kept[size] == nil { kept[size] = note }
    }

    public func checkpoints() -> [(size: UInt64, note: String)] {
        kept.sorted { $0.key < $1.key }.map { (size: $0.key, note: $0.value) }
    }
}
